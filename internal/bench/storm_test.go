package bench

import (
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/heraldrt/herald"
)

// TestStormRecovers runs the storm against a node with history: every
// client connects and subscribes with recovery from the probed position,
// and gets back the --missed publications made before the storm.
func TestStormRecovers(t *testing.T) {
	s, _ := startNode(t, herald.Config{Channels: herald.ChannelOptions{HistorySize: 100}})
	r := runJSON(t, s, "storm", "--clients", "300", "--workers", "2", "--missed", "7", "--duration", "60s",
		"--server-pid", strconv.Itoa(os.Getpid()))
	if r.Connected != 300 || r.ConnectFailures != 0 || r.Errors != 0 {
		t.Fatalf("connected %d, failed %d, errors %v", r.Connected, r.ConnectFailures, r.ErrorKinds)
	}
	st := r.Storm
	if st == nil || st.Seconds <= 0 || st.HandshakesPerSecond <= 0 || st.Missed != 7 {
		t.Fatalf("storm %+v", st)
	}
	// Each worker's probe publishes 7 before its clients storm, so a
	// client recovers 7, or 14 when the other worker's probe came after
	// its own.
	if st.Recovered != 300 || st.Short != 0 || st.RecoveredPublications < 300*7 || st.RecoveredPublications > 300*14 {
		t.Fatalf("recovery %+v", st)
	}
	if r.Server == nil || r.Server.CPUPerConnectionUS <= 0 {
		t.Fatalf("server %+v", r.Server)
	}
}

// TestStormWithoutHistorySaysWhy: a channel without history has no
// position to recover from, and the storm says so instead of measuring
// plain subscribes.
func TestStormWithoutHistorySaysWhy(t *testing.T) {
	s := startServer(t)
	args := []string{"storm", "--clients", "10", "--url", s.ws, "--quiet"}
	var errb strings.Builder
	if code := Main(args, io.Discard, &errb); code == 0 {
		t.Fatal("storm against a channel without history succeeded")
	}
	if !strings.Contains(errb.String(), "needs history and recovery") {
		t.Fatalf("stderr %q does not say that the channel needs history", errb.String())
	}
}

// TestStormOptions: storm opens every client of a worker at once unless
// --concurrency says otherwise, speaks JSON only, and bounds --missed.
func TestStormOptions(t *testing.T) {
	c, err := parseConfig([]string{"storm", "--clients", "100"}, io.Discard)
	if err != nil || c.Concurrency != maxPerWorker || c.Missed != 10 {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	if c, err = parseConfig([]string{"storm", "--concurrency", "5"}, io.Discard); err != nil || c.Concurrency != 5 {
		t.Fatalf("--concurrency 5: %d, %v", c.Concurrency, err)
	}
	if c, err = parseConfig([]string{"idle"}, io.Discard); err != nil || c.Concurrency != 256 {
		t.Fatalf("idle keeps its default concurrency: %d, %v", c.Concurrency, err)
	}
	for _, bad := range [][]string{
		{"storm", "--encoding", "protobuf"},
		{"storm", "--missed", "101"},
		{"storm", "--missed", "-1"},
	} {
		if _, err := parseConfig(bad, io.Discard); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// centrifugoRecovery is the channel member of Centrifugo's configuration
// with history and recovery, as docs/benchmarks.md's storm runs use it; it
// replaces centrifugoConfig's own channel member (the later key wins).
const centrifugoRecovery = `"channel": {"without_namespace": {
    "allow_subscribe_for_anonymous": true, "allow_subscribe_for_client": true,
    "allow_publish_for_anonymous": true, "allow_publish_for_client": true,
    "history_size": 100, "history_ttl": "300s", "force_recovery": true
  }}`

// TestCentrifugoStorm runs the storm against a real Centrifugo v6 with
// history and recovery when CENTRIFUGO_BIN names its binary: its
// subscribe-with-recovery frames and replies are read as Herald's are.
func TestCentrifugoStorm(t *testing.T) {
	bin := os.Getenv("CENTRIFUGO_BIN")
	if bin == "" {
		t.Skip("set CENTRIFUGO_BIN to a Centrifugo v6 binary to test --target centrifugo")
	}
	s := startCentrifugo(t, bin, centrifugoRecovery)
	r := runJSON(t, s, "storm", "--target", "centrifugo", "--clients", "200", "--missed", "5", "--duration", "60s")
	if st := r.Storm; r.Connected != 200 || r.Errors != 0 || st == nil || st.Recovered != 200 || st.Short != 0 || st.RecoveredPublications < 200*5 {
		t.Fatalf("storm: connected %d, errors %v, %+v", r.Connected, r.ErrorKinds, r.Storm)
	}
}
