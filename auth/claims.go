package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are what a token says. Verify returns them; Mint encodes them.
type Claims struct {
	// User is the user id (sub). A connection token must name one.
	User string
	// Expires is when the token stops being accepted (exp), give or take
	// the verifier's leeway; zero means the token does not expire.
	Expires time.Time
	// NotBefore is when the token starts being accepted (nbf); zero means
	// at once.
	NotBefore time.Time
	// IssuedAt is when the token was made (iat); informational.
	IssuedAt time.Time
	// Issuer names who made the token (iss).
	Issuer string
	// Audience names who the token is for (aud).
	Audience []string
	// Info is the connection's presence data (info): a JSON object, or
	// nil.
	Info json.RawMessage
	// Channels are subscribed on the server's initiative at connect
	// (channels).
	Channels []string
	// Channel makes the token a channel token for this channel (channel).
	Channel string
}

// wireClaims is the JSON form of Claims.
type wireClaims struct {
	jwt.RegisteredClaims
	Info     json.RawMessage `json:"info,omitempty"`
	Channels []string        `json:"channels,omitempty"`
	Channel  string          `json:"channel,omitempty"`
}

// claims converts the decoded JSON into Claims, checking what the JWT
// library does not: info is an object and channel names are not empty.
func (w *wireClaims) claims() (*Claims, error) {
	c := &Claims{
		User:     w.Subject,
		Issuer:   w.Issuer,
		Audience: w.Audience,
		Channels: w.Channels,
		Channel:  w.Channel,
	}
	if w.ExpiresAt != nil {
		c.Expires = w.ExpiresAt.Time
	}
	if w.NotBefore != nil {
		c.NotBefore = w.NotBefore.Time
	}
	if w.IssuedAt != nil {
		c.IssuedAt = w.IssuedAt.Time
	}
	if info := bytes.TrimSpace(w.Info); len(info) > 0 && !bytes.Equal(info, []byte("null")) {
		if info[0] != '{' {
			return nil, errors.New(`the info claim must be a JSON object, like {"name":"Alice"}`)
		}
		c.Info = info
	}
	for i, ch := range w.Channels {
		if ch == "" {
			return nil, fmt.Errorf("the channels claim holds an empty channel name (at index %d)", i)
		}
	}
	return c, nil
}

// wire converts Claims into their JSON form.
func (c *Claims) wire() (*wireClaims, error) {
	w := &wireClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:  c.User,
			Issuer:   c.Issuer,
			Audience: c.Audience,
		},
		Channels: c.Channels,
		Channel:  c.Channel,
	}
	if !c.Expires.IsZero() {
		w.ExpiresAt = jwt.NewNumericDate(c.Expires)
	}
	if !c.NotBefore.IsZero() {
		w.NotBefore = jwt.NewNumericDate(c.NotBefore)
	}
	if !c.IssuedAt.IsZero() {
		w.IssuedAt = jwt.NewNumericDate(c.IssuedAt)
	}
	if len(c.Info) > 0 {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(c.Info, &obj); err != nil || obj == nil {
			return nil, errors.New(`auth: Info must be a JSON object, like {"name":"Alice"}`)
		}
		w.Info = c.Info
	}
	for _, ch := range c.Channels {
		if ch == "" {
			return nil, errors.New("auth: Channels holds an empty channel name")
		}
	}
	return w, nil
}
