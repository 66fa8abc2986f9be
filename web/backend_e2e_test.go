package web_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/heraldrt/herald/internal/clustertest"
)

// TestDemoCommandsThroughBackend runs web/e2e/backend.e2e.mjs against the
// real herald binary: one started as the Node example's README says
// (--config examples/node-backend/demo.yaml, its --proxy-url pointed at
// the running example), and one without a backend. In Chromium, the
// demo's /time is an RPC that the example answers with its clock, and
// /feedback a send that reaches it; without the backend both say that they
// need one (error 104) and how to start it; and with a backend that
// does not run (--proxy-url to a port nothing listens on), both say that
// it did not answer (112). Screenshots go to
// $HERALD_E2E_ARTIFACTS, or a folder in the test's temporary directory.
func TestDemoCommandsThroughBackend(t *testing.T) {
	dir := e2eDir(t)
	be := clustertest.StartNodeBackend(t)
	demo := filepath.Join(clustertest.ExampleDir("node-backend"), "demo.yaml")
	with := clustertest.StartNode(t, "demo-with-backend", "", "--config", demo, "--proxy-url", be.URL()+"/herald")
	without := clustertest.StartNode(t, "demo-alone", "")
	down := clustertest.StartNode(t, "demo-backend-down", "", "--config", demo,
		"--proxy-url", fmt.Sprintf("http://127.0.0.1:%d/herald", clustertest.FreePort(t)))

	artifacts := os.Getenv("HERALD_E2E_ARTIFACTS")
	if artifacts == "" {
		artifacts = filepath.Join(t.TempDir(), "artifacts")
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	runNode(t, dir, "backend.e2e.mjs", with.URL()+"/", be.URL(), without.URL()+"/", artifacts, "--down", down.URL()+"/")
	t.Logf("screenshots: %s; backend output:\n%s", artifacts, be.Output())
}
