package lifecycle

import (
	"fmt"

	"github.com/heraldrt/herald/broker"
)

// Fail turns a client error into the error a caller sees, as
// "<name>: <op>: ...": nil stays nil; after Close, one wrapping
// broker.ErrClosed; an error isRequest accepts (the server's reply says
// what is wrong with the request) as it is; anything else (timeouts,
// refused or broken connections, a server that cannot serve now) wrapped
// in broker.ErrUnavailable.
func (l *Lifecycle) Fail(op string, err error, isRequest func(error) bool) error {
	if err == nil {
		return nil
	}
	if l.closed.Load() {
		return fmt.Errorf("%s: %s: %w", l.name, op, broker.ErrClosed)
	}
	if isRequest(err) {
		return fmt.Errorf("%s: %s: %w", l.name, op, err)
	}
	return fmt.Errorf("%s: %s: %w: %w", l.name, op, broker.ErrUnavailable, err)
}
