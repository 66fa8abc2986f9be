package bench

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Scenario names.
const (
	scenarioIdle   = "idle"
	scenarioFanout = "fanout"
	scenarioChat   = "chat"
	scenarioChurn  = "churn"
	scenarioStorm  = "storm"
)

// Target names.
const (
	targetHerald     = "herald"
	targetCentrifugo = "centrifugo"
)

// Encodings of Herald's protocol (--encoding).
const (
	encodingJSON     = "json"
	encodingProtobuf = "protobuf"
)

// Limits that keep a run inside this machine's bounds.
const (
	defaultPerWorker = 15000 // clients per worker process by default
	maxPerWorker     = 19000 // one process may hold at most 20,000 files
	maxClients       = 1_000_000
	maxDuration      = time.Hour
	maxSize          = 60 << 10 // under the server's 64 KiB message limit
)

// config is one run's settings, shared by the coordinator and (as JSON) by
// its workers.
type config struct {
	Scenario     string        `json:"scenario"`
	Target       string        `json:"target"`
	Encoding     string        `json:"encoding"`
	URL          string        `json:"url"`  // --url as given: one URL, or several separated by commas
	URLs         []string      `json:"urls"` // the URLs of --url; client i dials URLs[i%len(URLs)]
	APIURL       string        `json:"api_url"`
	APIKey       string        `json:"-"` // the coordinator's only; never sent to workers
	Clients      int           `json:"clients"`
	Rate         float64       `json:"rate"`
	Duration     time.Duration `json:"duration"`
	Size         int           `json:"size"`
	Rooms        int           `json:"rooms"`
	Channel      string        `json:"channel"`
	Workers      int           `json:"workers"`
	SourceIPs    []string      `json:"source_ips,omitempty"`
	Concurrency  int           `json:"concurrency"`
	SetupTimeout time.Duration `json:"setup_timeout"`
	Drain        time.Duration `json:"drain"`
	Missed       int           `json:"missed"`
	JSON         bool          `json:"-"`
	HTML         string        `json:"-"`
	ServerPIDs   []int         `json:"server_pids,omitempty"`
	Quiet        bool          `json:"-"`
	Profile      string        `json:"profile,omitempty"`
	AllowRemote  bool          `json:"allow_remote,omitempty"`
	sourceSpec   string
	pidSpec      string
}

// parseConfig reads the scenario (first positional argument) and flags.
func parseConfig(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("herald bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { writeUsage(stderr, fs) }
	fs.StringVar(&c.Target, "target", targetHerald, "server protocol: herald or centrifugo")
	fs.StringVar(&c.Encoding, "encoding", encodingJSON, "Herald's wire encoding: json, or protobuf (the binary encoding: subprotocol herald.protobuf, publications as bytes)")
	fs.StringVar(&c.URL, "url", "ws://127.0.0.1:8080/ws", "WebSocket URL, or several separated by commas: client i dials the (i mod n)th (loopback only, unless --allow-remote)")
	fs.BoolVar(&c.AllowRemote, "allow-remote", false, "allow a target that is not a loopback address: only a deployment you run yourself")
	fs.StringVar(&c.APIURL, "api-url", "", "HTTP API base URL (default: http://<first url's host>/api)")
	fs.StringVar(&c.APIKey, "api-key", "", "HTTP API key, sent as X-API-Key (fanout)")
	fs.IntVar(&c.Clients, "clients", 1000, "clients (churn: concurrent connect loops)")
	fs.Float64Var(&c.Rate, "rate", 0, "fanout, chat: publications per second in total; churn: connections per second (0: unlimited)")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "how long the measured phase lasts")
	fs.IntVar(&c.Size, "size", 128, "publication data size in bytes")
	fs.IntVar(&c.Rooms, "rooms", 0, "chat rooms (default: clients/10)")
	fs.StringVar(&c.Channel, "channel", "", "channel name, or chat's prefix of room names (default: bench-<random>, new for each run)")
	fs.IntVar(&c.Workers, "workers", 0, "worker processes (default: one per 15,000 clients)")
	fs.StringVar(&c.sourceSpec, "source-ips", "", "source addresses, e.g. 127.0.0.1-127.0.0.8 or a,b,c (default: more when ports run out)")
	fs.IntVar(&c.Concurrency, "concurrency", 256, "connection attempts in flight per worker (storm: all of them by default)")
	fs.IntVar(&c.Missed, "missed", 10, "storm: publications made before the storm, which every client recovers")
	fs.DurationVar(&c.SetupTimeout, "setup-timeout", 2*time.Minute, "how long connecting all clients may take")
	fs.DurationVar(&c.Drain, "drain", 3*time.Second, "after the measured phase, wait up to this long for deliveries in flight")
	fs.BoolVar(&c.JSON, "json", false, "print the result as JSON on stdout")
	fs.StringVar(&c.HTML, "html", "", "write an HTML report to this file")
	fs.StringVar(&c.pidSpec, "server-pid", "", "server process id, or several separated by commas (the nodes and their broker), to report their memory and CPU, summed (read from /proc)")
	fs.BoolVar(&c.Quiet, "quiet", false, "no progress line")
	fs.StringVar(&c.Profile, "cpuprofile-dir", "", "write each worker's CPU profile to this directory (worker-N.pprof)")

	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		c.Scenario, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.Scenario == "" && fs.NArg() > 0 {
		c.Scenario = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return c, err
		}
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.Scenario == scenarioStorm && !flagSet(fs, "concurrency") {
		c.Concurrency = maxPerWorker // every client of a worker at once
	}
	return c, c.finish()
}

// finish checks the settings and fills in the derived defaults.
func (c *config) finish() error {
	switch c.Scenario {
	case scenarioIdle, scenarioFanout, scenarioChat, scenarioChurn, scenarioStorm:
	case "":
		return errors.New("name a scenario: idle, fanout, chat, churn or storm")
	default:
		return fmt.Errorf("unknown scenario %q: use idle, fanout, chat, churn or storm", c.Scenario)
	}
	if c.Target != targetHerald && c.Target != targetCentrifugo {
		return fmt.Errorf("unknown --target %q: use herald or centrifugo", c.Target)
	}
	if c.Encoding != encodingJSON && c.Encoding != encodingProtobuf {
		return fmt.Errorf("unknown --encoding %q: use json or protobuf", c.Encoding)
	}
	if c.Scenario == scenarioStorm && c.Encoding != encodingJSON {
		return fmt.Errorf("--encoding %s: %w", c.Encoding, errNoRecovery)
	}
	if c.Missed < 0 || c.Missed > 100 {
		return errors.New("--missed must be between 0 and 100 (Herald's default history keeps 100)")
	}
	if c.Encoding != encodingJSON && c.Target != targetHerald {
		return fmt.Errorf("--encoding %s is Herald's: --target %s speaks JSON only", c.Encoding, c.Target)
	}
	if c.Clients < 1 || c.Clients > maxClients {
		return fmt.Errorf("--clients must be between 1 and %d", maxClients)
	}
	if c.Duration <= 0 || c.Duration > maxDuration {
		return fmt.Errorf("--duration must be positive and at most %s", maxDuration)
	}
	if c.Rate < 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0) || c.Rate > 1e6 {
		return errors.New("--rate must be between 0 and 1000000")
	}
	if (c.Scenario == scenarioFanout || c.Scenario == scenarioChat) && c.Rate == 0 {
		return fmt.Errorf("%s needs --rate (publications per second)", c.Scenario)
	}
	if c.Size < minPayload || c.Size > maxSize {
		return fmt.Errorf("--size must be between %d and %d bytes", minPayload, maxSize)
	}
	if c.Channel == "" {
		c.Channel = "bench-" + strconv.FormatUint(rand.Uint64()&0xFFFFFFFF, 36)
	}
	if c.Concurrency < 1 {
		c.Concurrency = 1
	}
	if c.SetupTimeout <= 0 {
		c.SetupTimeout = 2 * time.Minute
	}
	if c.Drain < 0 {
		c.Drain = 0
	}
	if c.Scenario == scenarioChat {
		if c.Rooms <= 0 {
			c.Rooms = max(1, c.Clients/10)
		}
		if c.Rooms > c.Clients {
			return fmt.Errorf("--rooms (%d) must not exceed --clients (%d)", c.Rooms, c.Clients)
		}
	}
	if c.Scenario == scenarioFanout && c.APIKey == "" {
		return errors.New("fanout publishes through the HTTP API: pass --api-key")
	}
	urls, err := c.parseURLs()
	if err != nil {
		return err
	}
	if c.APIURL == "" {
		c.APIURL = "http://" + urls[0].Host + "/api"
	}
	a, err := url.Parse(c.APIURL)
	if err != nil || a.Scheme != "http" || a.Host == "" {
		return fmt.Errorf("--api-url %q: want http://host:port/api", c.APIURL)
	}
	if err := c.checkTarget(a.Host); err != nil {
		return fmt.Errorf("--api-url: %w", err)
	}
	if c.ServerPIDs, err = parsePIDs(c.pidSpec); err != nil {
		return fmt.Errorf("--server-pid: %w", err)
	}
	if c.Workers <= 0 {
		c.Workers = (c.Clients + defaultPerWorker - 1) / defaultPerWorker
	}
	if c.Workers > c.Clients {
		c.Workers = c.Clients
	}
	if per := (c.Clients + c.Workers - 1) / c.Workers; per > maxPerWorker {
		return fmt.Errorf("%d clients per worker exceeds %d (a process may hold at most 20,000 files): raise --workers", per, maxPerWorker)
	}
	hosts := make([]string, len(urls))
	for i, u := range urls {
		hosts[i] = u.Hostname()
	}
	return c.chooseSourceIPs(hosts)
}

// parseURLs splits --url at its commas into c.URLs and checks each URL as
// a single one is checked: a ws:// URL with a host that checkTarget
// accepts.
func (c *config) parseURLs() ([]*url.URL, error) {
	c.URLs = c.URLs[:0]
	var out []*url.URL
	for raw := range strings.SplitSeq(c.URL, ",") {
		raw = strings.TrimSpace(raw)
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "ws" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("--url %q: want ws://host:port/path, or several separated by commas (wss is not supported)", raw)
		}
		if err := c.checkTarget(u.Host); err != nil {
			return nil, fmt.Errorf("--url %s: %w", raw, err)
		}
		c.URLs = append(c.URLs, raw)
		out = append(out, u)
	}
	return out, nil
}

// parsePIDs reads --server-pid: empty, or process ids separated by commas.
// A process named twice would be counted twice, so that is refused.
func parsePIDs(spec string) ([]int, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, nil
	}
	var pids []int
	for part := range strings.SplitSeq(spec, ",") {
		pid, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || pid <= 0 {
			return nil, fmt.Errorf("%q is not a process id: give one or more positive numbers separated by commas", part)
		}
		if slices.Contains(pids, pid) {
			return nil, fmt.Errorf("process %d is named twice: its CPU and memory would be counted twice", pid)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

// checkTarget refuses a target that is not a loopback address, unless
// --allow-remote was given: a load test against a server that is not yours
// is an attack on it, so reaching another machine takes an explicit flag.
// With the flag nothing is checked or resolved here.
func (c *config) checkTarget(hostport string) error {
	if c.AllowRemote {
		return nil
	}
	if err := checkLoopback(hostport); err != nil {
		return fmt.Errorf("%w; to load a deployment of your own on another machine, pass --allow-remote (never point it at a server you do not run: a load test against someone else's server is an attack)", err)
	}
	return nil
}

// chooseSourceIPs parses --source-ips, or picks enough 127.0.0.x addresses
// that no address needs more ports than the ephemeral range offers. It
// counts as if every client went to one server, which errs on the safe
// side when --url names several.
func (c *config) chooseSourceIPs(targetHosts []string) error {
	perIP := portsPerSource()
	if c.sourceSpec != "" {
		ips, err := parseSourceIPs(c.sourceSpec)
		if err != nil {
			return fmt.Errorf("--source-ips: %w", err)
		}
		c.SourceIPs = ips
	} else if c.Scenario != scenarioChurn && c.Clients > perIP {
		for _, h := range targetHosts {
			if !isIPv4Loopback(h) {
				return fmt.Errorf("%d clients need more than one source address, which needs IPv4 loopback targets (%s is not)", c.Clients, h)
			}
		}
		n := (c.Clients + perIP - 1) / perIP
		ips, err := parseSourceIPs(fmt.Sprintf("127.0.0.1-127.0.0.%d", n))
		if err != nil {
			return err
		}
		c.SourceIPs = ips
	}
	if n := max(1, len(c.SourceIPs)); c.Scenario != scenarioChurn && (c.Clients+n-1)/n > perIP {
		return fmt.Errorf("%d clients over %d source address(es) exceed about %d ports each: widen --source-ips", c.Clients, n, perIP)
	}
	return nil
}

// writeUsage prints the command's help.
func writeUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, `Usage: herald bench SCENARIO [flags]

Scenarios:
  idle     clients connect, subscribe and stay for --duration
  fanout   --clients subscribers on one channel, --rate publications/s through the HTTP API
  chat     --rooms rooms; every client publishes (--rate in total) and receives
  churn    --clients loops connect, subscribe and disconnect (--rate connections/s in total)
  storm    every client connects at once and subscribes recovering --missed publications

Targets must be loopback addresses, unless --allow-remote is given for a
deployment you run yourself on another machine. --target centrifugo speaks Centrifugo v6's
JSON protocol (URL ws://127.0.0.1:8000/connection/websocket), as a comparison aid.

Flags:
`)
	fs.PrintDefaults()
}

// flagSet reports whether the command line set the flag name.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
