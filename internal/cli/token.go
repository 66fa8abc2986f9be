package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/heraldrt/herald/auth"
)

// runToken mints an HMAC token with the configured secret and prints it on
// stdout, with one line on stderr saying how to use it (so that
// TOKEN=$(herald token --user alice) works).
func runToken(args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) int {
	o, c, err := loadToken(args, lookupEnv)
	if errors.Is(err, flag.ErrHelp) {
		writeTokenHelp(stdout)
		return exitOK
	}
	if err != nil {
		return usage(stderr, err)
	}
	if c.TokenSecret == "" {
		return usage(stderr, errors.New("no token secret configured: set HERALD_TOKEN_SECRET (or --token-secret, or token_secret in the config file) "+
			"to the secret the server uses; make one with: openssl rand -hex 32"))
	}
	claims := auth.Claims{
		User:     o.user,
		Expires:  time.Now().Add(o.ttl).Truncate(time.Second),
		IssuedAt: time.Now().Truncate(time.Second),
		Issuer:   c.TokenIssuer,
		Channels: o.channels,
		Channel:  o.channelToken,
	}
	if c.TokenAudience != "" {
		claims.Audience = []string{c.TokenAudience}
	}
	if o.info != "" {
		claims.Info = json.RawMessage(o.info)
	}
	token, err := auth.Mint([]byte(c.TokenSecret), "HS256", claims)
	if err != nil {
		return usage(stderr, errors.New(strings.TrimPrefix(err.Error(), "auth: ")))
	}
	fmt.Fprintln(stdout, token)
	scheme := "ws"
	if c.TLSCert != "" {
		scheme = "wss"
	}
	url := scheme + "://" + c.Addr + "/ws"
	expires := claims.Expires.UTC().Format(time.RFC3339)
	if o.channelToken != "" {
		fmt.Fprintf(stderr, "Channel token for %q (user %q), expires %s. Send it with the subscribe command: {\"op\":\"subscribe\",\"channel\":%q,\"token\":\"<token>\"}\n",
			o.channelToken, o.user, expires, o.channelToken)
	} else {
		fmt.Fprintf(stderr, "Token for user %q, expires %s. Connect with it: new Herald(%q, { token: \"<token>\" })\n", o.user, expires, url)
	}
	return exitOK
}

// loadToken parses the token flags and resolves the settings it needs.
func loadToken(args []string, lookupEnv func(string) (string, bool)) (tokenOptions, Config, error) {
	o := tokenOptions{ttl: time.Hour}
	fs, got := newTokenFlagSet(&o)
	if err := fs.Parse(args); err != nil {
		return o, Config{}, err
	}
	if fs.NArg() > 0 {
		return o, Config{}, fmt.Errorf("unexpected argument %q (token takes only flags)", fs.Arg(0))
	}
	switch {
	case o.user == "" && o.channelToken == "":
		return o, Config{}, errors.New("token needs --user ID (the token's sub)")
	case o.ttl <= 0:
		return o, Config{}, errors.New("--ttl must be positive, like 1h or 30m")
	case o.channelToken != "" && len(o.channels) > 0:
		return o, Config{}, errors.New("--channel-token makes a channel token, which cannot carry --channel subscriptions")
	}
	if o.info != "" {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(o.info), &obj); err != nil || obj == nil {
			return o, Config{}, fmt.Errorf(`--info %q: want a JSON object, like {"name":"Alice"}`, o.info)
		}
	}
	c, err := resolve(*got, lookupEnv)
	return o, c, err
}
