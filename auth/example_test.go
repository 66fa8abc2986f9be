package auth_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/heraldrt/herald/auth"
)

// A backend mints a token with the secret it shares with Herald; Herald
// verifies it.
func Example() {
	secret := []byte("a-secret-of-at-least-32-bytes!!!")
	v, err := auth.NewVerifier(auth.Config{HMACSecret: secret})
	if err != nil {
		panic(err)
	}
	token, err := auth.Mint(secret, "HS256", auth.Claims{
		User:    "alice",
		Expires: time.Now().Add(time.Hour),
		Info:    []byte(`{"name":"Alice"}`),
	})
	if err != nil {
		panic(err)
	}
	c, err := v.Verify(context.Background(), token)
	if err != nil {
		panic(err)
	}
	fmt.Println(c.User, string(c.Info))

	expired, _ := auth.Mint(secret, "HS256", auth.Claims{User: "alice", Expires: time.Now().Add(-time.Hour)})
	_, err = v.Verify(context.Background(), expired)
	fmt.Println(errors.Is(err, auth.ErrTokenExpired))
	// Output:
	// alice {"name":"Alice"}
	// true
}
