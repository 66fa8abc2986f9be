package herald

import (
	"errors"
	"fmt"
)

// DisconnectError, returned by a ConnectHandler, refuses the connection
// and closes it with its own Code and Reason instead of the code that
// follows from an *Error (see ConnectHandler). Code must be in 3000-4999
// (4000-4999 for applications); any other is replaced by 3503 (forbidden).
type DisconnectError struct {
	Code   int
	Reason string
}

// Error describes the refusal.
func (e *DisconnectError) Error() string {
	return fmt.Sprintf("disconnect with code %d: %s", e.Code, e.Reason)
}

// asDisconnect returns err's *DisconnectError, with its code made valid.
func asDisconnect(err error) (*DisconnectError, bool) {
	var de *DisconnectError
	if !errors.As(err, &de) {
		return nil, false
	}
	if de.Code < 3000 || de.Code > 4999 {
		return &DisconnectError{Code: 3503, Reason: de.Reason}, true
	}
	return de, true
}
