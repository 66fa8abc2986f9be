package redis

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/heraldrt/herald/broker"
)

// What a channel's pub/sub messages carry, told by their first byte:
//
//	p<offset> <epoch> <publication JSON>   a publication (offset 0 and an empty epoch without history)
//	j<ClientInfo JSON>                     a join
//	l<ClientInfo JSON>                     a leave
//
// publish.lua writes the first form itself; package announce the others.
// The control channel carries the control message's bytes unchanged.

// pubMessage encodes a publication for PUBLISH, as publish.lua does.
func pubMessage(offset uint64, epoch string, payload []byte) string {
	return "p" + strconv.FormatUint(offset, 10) + " " + epoch + " " + string(payload)
}

var errBadMessage = errors.New("redis: malformed pub/sub message")

// parsePub decodes the body of a publication message (after its kind byte).
func parsePub(body string) (pub *broker.Publication, epoch string, err error) {
	off, rest, ok := strings.Cut(body, " ")
	if !ok {
		return nil, "", errBadMessage
	}
	epoch, payload, ok := strings.Cut(rest, " ")
	if !ok {
		return nil, "", errBadMessage
	}
	offset, err := strconv.ParseUint(off, 10, 64)
	if err != nil {
		return nil, "", errBadMessage
	}
	pub, err = decodePub(payload, offset)
	return pub, epoch, err
}

// decodePub decodes a stored publication and gives it its offset.
func decodePub(payload string, offset uint64) (*broker.Publication, error) {
	pub := new(broker.Publication)
	if err := json.Unmarshal([]byte(payload), pub); err != nil {
		return nil, err
	}
	pub.Offset = offset
	return pub, nil
}
