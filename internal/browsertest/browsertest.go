// Package browsertest finds what Herald's headless-Chromium tests need:
// Node.js, Debian's Chromium and playwright-core (installed by npm ci in
// web/e2e). A test that lacks one skips with a message saying how to
// install it, or fails when HERALD_REQUIRE_SERVICES=1 (as CI sets it), so
// that a missing browser never passes silently there.
//
// StartChannelsServer runs the real node that the SDK's channel checks
// (web/e2e/channels.checks.mjs) expect, for the tests in web/ (Chromium)
// and js/ (Node.js) alike.
package browsertest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// ChromiumPath is where Debian's chromium package puts the browser.
const ChromiumPath = "/usr/bin/chromium"

// NeedService skips the test, or fails it under HERALD_REQUIRE_SERVICES=1.
func NeedService(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("HERALD_REQUIRE_SERVICES") == "1" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// Require checks for node, Chromium and playwright-core in webE2EDir (the
// path of web/e2e from the test's package directory) and returns that
// directory's absolute path.
func Require(t testing.TB, webE2EDir string) string {
	t.Helper()
	dir, err := filepath.Abs(webE2EDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		NeedService(t, "browser e2e test: node is not installed; install Node.js 20 or later (apt-get install -y nodejs npm)")
	}
	if _, err := os.Stat(ChromiumPath); err != nil {
		NeedService(t, "browser e2e test: %s is missing; install it with apt-get update && apt-get install -y chromium", ChromiumPath)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core")); err != nil {
		NeedService(t, "browser e2e test: playwright-core is not installed; run npm ci in %s (make e2e-deps)", dir)
	}
	return dir
}
