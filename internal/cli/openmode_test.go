package cli

import (
	"strings"
	"testing"
)

func TestCheckOpenMode(t *testing.T) {
	for _, tc := range []struct {
		addr     string
		loopback bool
	}{
		{"127.0.0.1:8080", true},
		{"127.0.0.1:0", true},
		{"127.1.2.3:8080", true},
		{"127.255.255.255:80", true},
		{"[::1]:8080", true},
		{"[::ffff:127.0.0.1]:8080", true},
		{"localhost:8080", true},
		{"LocalHost:8080", true},
		{":8080", false},
		{"0.0.0.0:8080", false},
		{"[::]:8080", false},
		{"128.0.0.1:8080", false},
		{"10.0.0.1:8080", false},
		{"192.168.1.10:8080", false},
		{"[fe80::1]:8080", false},
		{"[::2]:8080", false},
		{"example.com:8080", false},
		{"localhost.example.com:8080", false},
		{"127.0.0.1.nip.io:8080", false},
		{"not an address", false},
	} {
		err := checkOpenMode(tc.addr, false)
		if tc.loopback {
			if err != nil {
				t.Errorf("%s: refused: %v", tc.addr, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: allowed in open mode without --insecure", tc.addr)
			continue
		}
		for _, want := range []string{tc.addr, "open mode", "--insecure", "authentication", "127.0.0.1"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not mention %q", tc.addr, err, want)
			}
		}
		if err := checkOpenMode(tc.addr, true); err != nil {
			t.Errorf("%s: refused with --insecure: %v", tc.addr, err)
		}
	}
}
