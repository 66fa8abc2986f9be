package redis

import (
	"errors"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		url      string
		addrs    string
		db       int
		user     string
		pass     string
		master   string
		tls      bool
		errorHas string
	}{
		{url: "redis://127.0.0.1:6379", addrs: "127.0.0.1:6379"},
		{url: "redis://localhost", addrs: "localhost:6379"},
		{url: "redis://:secret@h:7000/3", addrs: "h:7000", db: 3, pass: "secret"},
		{url: "redis://alice:secret@h:7000", addrs: "h:7000", user: "alice", pass: "secret"},
		{url: "redis://[::1]:6380/1", addrs: "[::1]:6380", db: 1},
		{url: "rediss://cache.example:6380", addrs: "cache.example:6380", tls: true},
		{url: "redis://a:7000,b:7001,c", addrs: "a:7000 b:7001 c:6379"},
		{url: "redis+sentinel://:pw@s1:26379,s2/mymaster/2", addrs: "s1:26379 s2:26379", db: 2, pass: "pw", master: "mymaster"},
		{url: "rediss+sentinel://s1/mymaster", addrs: "s1:26379", master: "mymaster", tls: true},
		{url: "127.0.0.1:6379", errorHas: "no scheme"},
		{url: "http://h", errorHas: `unknown scheme "http"`},
		{url: "redis://h/x", errorHas: `database "x" is not a number`},
		{url: "redis://h/1/2", errorHas: "too many path segments"},
		{url: "redis://h:99999", errorHas: "no valid port"},
		{url: "redis://a,,b", errorHas: "an address is empty"},
		{url: "redis://a:1,b:2/3", errorHas: "Redis Cluster has only database 0"},
		{url: "redis+sentinel://s1", errorHas: "needs the master's name"},
		{url: "redis://h?db=1", errorHas: "query parameters"},
		{url: "redis://:hunter2@h/x", errorHas: "xxxxx@h"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			opt, err := parseURL(tc.url)
			if tc.errorHas != "" {
				if err == nil || !errors.Is(err, ErrInvalidURL) || !strings.Contains(err.Error(), tc.errorHas) {
					t.Fatalf("error %v, want ErrInvalidURL saying %q", err, tc.errorHas)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("the error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(opt.InitAddress, " "); got != tc.addrs {
				t.Errorf("addresses %q, want %q", got, tc.addrs)
			}
			if opt.SelectDB != tc.db || opt.Username != tc.user || opt.Password != tc.pass ||
				opt.Sentinel.MasterSet != tc.master || (opt.TLSConfig != nil) != tc.tls {
				t.Errorf("got db %d user %q pass %q master %q tls %v", opt.SelectDB, opt.Username, opt.Password, opt.Sentinel.MasterSet, opt.TLSConfig != nil)
			}
		})
	}
}
