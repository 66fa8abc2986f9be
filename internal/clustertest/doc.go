// Package clustertest runs Herald as its users deploy it at scale, for the
// fault tests: several `herald` processes (the real binary, built once per
// test run) joined by a broker that the tests start themselves
// (redis-server on a free port), behind a real nginx configured from
// docs/deployment.md. Clients are the Go SDK, connected through nginx;
// publications go through the HTTP API of random nodes.
//
// A Checker records every acknowledged publication and everything each
// client's application received, and verifies what Herald promises:
// nothing acknowledged is missing for a client that stayed subscribed
// (after recovery), nothing is delivered twice, order per channel holds,
// and every gap that could not be filled was reported as recovered:false.
//
// Tests that need a program that is not installed (redis-server, nginx)
// skip, or fail under HERALD_REQUIRE_SERVICES=1, as CI sets it.
package clustertest
