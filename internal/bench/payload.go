package bench

import (
	"bytes"
	"strconv"
)

// minPayload is the smallest --size: room for the header fields.
const minPayload = 64

// appendPayload appends a publication's data: a JSON object of exactly
// size bytes (more only when the header alone is longer) carrying the
// sender c (-1: the HTTP API), its sequence number s and the send time t
// in Unix nanoseconds, padded with a string p.
func appendPayload(b []byte, c, s, t int64, size int) []byte {
	start := len(b)
	b = append(b, '{')
	if c >= 0 {
		b = append(b, `"c":`...)
		b = strconv.AppendInt(b, c, 10)
		b = append(b, ',')
	}
	b = append(b, `"s":`...)
	b = strconv.AppendInt(b, s, 10)
	b = append(b, `,"t":`...)
	b = strconv.AppendInt(b, t, 10)
	b = append(b, `,"p":"`...)
	for pad := size - (len(b) - start) - 2; pad > 0; pad-- {
		b = append(b, 'x')
	}
	return append(b, '"', '}')
}

// parsePayload reads c, s and t from data that appendPayload made (its
// fields in that order; c is -1 when absent).
func parsePayload(data []byte) (c, s, t int64, ok bool) {
	c = -1
	if len(data) == 0 || data[0] != '{' {
		return 0, 0, 0, false
	}
	data = data[1:]
	for range 3 {
		if len(data) < 5 || data[0] != '"' || data[2] != '"' || data[3] != ':' {
			return 0, 0, 0, false
		}
		key := data[1]
		data = data[4:]
		end := bytes.IndexAny(data, ",}")
		if end < 0 {
			return 0, 0, 0, false
		}
		v, err := strconv.ParseInt(string(data[:end]), 10, 64)
		if err != nil {
			return 0, 0, 0, false
		}
		data = data[end+1:]
		switch key {
		case 'c':
			c = v
		case 's':
			s = v
		case 't':
			return c, s, v, true
		default:
			return 0, 0, 0, false
		}
	}
	return 0, 0, 0, false
}
