package nats

import (
	"errors"
	"strings"
)

// Names the broker uses on the NATS server. <p> is Options.Prefix and
// <t> a channel's token (see channelToken):
//
//	<p>.h.<t>        JetStream subject of the channel's history (stream <p>_history)
//	<p>.c.<t>        core subject: the channel's live publications, joins and leaves
//	<p>.control      core subject: control messages for every node
//	<p>.k.<t>        JetStream subject of idempotency keys of channels without history (stream <p>_keys)
//	<p>_presence     KV bucket of presence; key <t>.<client token>
type names struct {
	prefix string
}

func (n names) historyStream() string          { return n.prefix + "_history" }
func (n names) keysStream() string             { return n.prefix + "_keys" }
func (n names) presenceBucket() string         { return n.prefix + "_presence" }
func (n names) history(token string) string    { return n.prefix + ".h." + token }
func (n names) live(token string) string       { return n.prefix + ".c." + token }
func (n names) keySubject(token string) string { return n.prefix + ".k." + token }
func (n names) control() string                { return n.prefix + ".control" }

// liveToken returns the channel token of a live subject.
func (n names) liveToken(subject string) (string, bool) {
	p := n.prefix + ".c."
	if len(subject) <= len(p) || subject[:len(p)] != p {
		return "", false
	}
	return subject[len(p):], true
}

// validPrefix reports whether p can start subjects, stream names and a KV
// bucket name: letters, digits, '-' and '_' only.
func validPrefix(p string) bool {
	if p == "" {
		return false
	}
	for i := 0; i < len(p); i++ {
		if !plain(p[i]) {
			return false
		}
	}
	return true
}

// plain reports whether c stands for itself in a token.
func plain(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

const hexDigits = "0123456789ABCDEF"

// channelToken encodes a Herald channel name (any bytes) as one token that
// is valid in a NATS subject and in a JetStream KV key: letters, digits,
// '-' and '_' stand for themselves; every other byte (':', '.', '*', '>',
// '=', non-ASCII, ...) becomes '=' and two upper-case hex digits, the way
// quoted-printable does. The encoding is reversible (decodeToken) and
// keeps common names readable in monitoring: "chat:room.1" is
// "chat=3Aroom=2E1". The empty name, which Herald never uses, is "=".
func channelToken(channel string) string {
	if channel == "" {
		return "="
	}
	n := 0
	for i := 0; i < len(channel); i++ {
		if !plain(channel[i]) {
			n++
		}
	}
	if n == 0 {
		return channel
	}
	var b strings.Builder
	b.Grow(len(channel) + 2*n)
	for i := 0; i < len(channel); i++ {
		c := channel[i]
		if plain(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('=')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

var errBadToken = errors.New("nats: malformed channel token")

// decodeToken is the inverse of channelToken.
func decodeToken(token string) (string, error) {
	if token == "=" {
		return "", nil
	}
	if strings.IndexByte(token, '=') < 0 {
		for i := 0; i < len(token); i++ {
			if !plain(token[i]) {
				return "", errBadToken
			}
		}
		return token, nil
	}
	out := make([]byte, 0, len(token))
	for i := 0; i < len(token); i++ {
		c := token[i]
		switch {
		case plain(c):
			out = append(out, c)
		case c == '=' && i+2 < len(token):
			hi, lo := unhex(token[i+1]), unhex(token[i+2])
			if hi < 0 || lo < 0 {
				return "", errBadToken
			}
			b := byte(hi<<4 | lo)
			if plain(b) {
				return "", errBadToken // not how channelToken writes it
			}
			out = append(out, b)
			i += 2
		default:
			return "", errBadToken
		}
	}
	if len(out) == 0 {
		return "", errBadToken
	}
	return string(out), nil
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
