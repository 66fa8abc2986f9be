package cli

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
)

// runMain runs Main with args and returns its exit code and output.
func runMain(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = Main(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestMainVersion: herald version prints the version, commit and Go
// version.
func TestMainVersion(t *testing.T) {
	code, out, errOut := runMain("version")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"herald ", "commit ", runtime.Version()} {
		if !strings.Contains(out, want) {
			t.Errorf("version output %q does not contain %q", out, want)
		}
	}
}

// TestMainHelp: help, serve -h and --help print the subcommands and the
// serve flags on stdout.
func TestMainHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"serve", "-h"}, {"--help"}} {
		code, out, errOut := runMain(args...)
		if code != 0 || errOut != "" {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
		if !strings.Contains(out, "HERALD_ADDR") || !strings.Contains(out, "herald version") {
			t.Errorf("%q: help is missing flags or subcommands:\n%s", args, out)
		}
	}
}

// TestMainUsageErrors: a bad command line exits 2 with the error and a
// pointer to help on stderr, nothing on stdout.
func TestMainUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"version", "extra"}, "no arguments"},
		{[]string{"--no-such-flag"}, "no-such-flag"},
		{[]string{"serve", "--ping-interval", "25"}, "unit"},
	} {
		code, out, errOut := runMain(tc.args...)
		if code != exitUsage {
			t.Errorf("%q: exit %d, want %d", tc.args, code, exitUsage)
		}
		if out != "" {
			t.Errorf("%q: wrote to stdout: %q", tc.args, out)
		}
		if !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "herald help") {
			t.Errorf("%q: stderr %q does not mention %q and herald help", tc.args, errOut, tc.want)
		}
	}
}

// TestMainRefusesOpenModeOnNonLoopback: open mode on every interface
// exits 1, logging why and how to allow it.
func TestMainRefusesOpenModeOnNonLoopback(t *testing.T) {
	code, _, errOut := runMain("--addr", ":8080", "--log-format", "text")
	if code != exitError {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitError, errOut)
	}
	if !strings.Contains(errOut, "--insecure") || !strings.Contains(errOut, "level=ERROR") {
		t.Errorf("stderr does not log why and how:\n%s", errOut)
	}
}
