package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader is the header that carries a request's signature:
//
//	Herald-Signature: t=1767225600,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd
//
// t is the Unix time of signing, in seconds; v1 is the hex HMAC-SHA256,
// keyed with the endpoint's secret, of t, a period and the raw body
// ("1767225600.{...}"). A receiver recomputes it over the body exactly as
// received, compares in constant time, and refuses a t outside its replay
// window (Tolerance).
const SignatureHeader = "Herald-Signature"

// Tolerance is the replay window Verify allows between t and now, either
// way.
const Tolerance = 5 * time.Minute

// Errors of Verify.
var (
	ErrNoSignature  = errors.New("webhook: no valid Herald-Signature header (want t=UNIX,v1=HEX)")
	ErrBadSignature = errors.New("webhook: the signature does not match the body (wrong secret, or the body was changed)")
	ErrStale        = errors.New("webhook: the signature's time is outside the replay window (5 minutes): a replay, or a clock far off")
)

// Sign returns the Herald-Signature header value of body signed with
// secret at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks that header, a Herald-Signature value, signs body with
// secret, at a time within Tolerance of now. It returns nil, or
// ErrNoSignature, ErrStale or ErrBadSignature.
func Verify(secret []byte, header string, body []byte, now time.Time) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		switch {
		case !ok:
		case k == "t":
			ts = v
		case k == "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrNoSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > Tolerance || d < -Tolerance {
		return ErrStale
	}
	want := []byte(mac(secret, ts, body))
	for _, s := range sigs {
		if hmac.Equal([]byte(s), want) {
			return nil
		}
	}
	return ErrBadSignature
}
