package bench

import (
	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Result is the outcome of a run, as --json prints it. Times are in
// milliseconds unless a field's name says otherwise.
type Result struct {
	Scenario  string   `json:"scenario"`
	Target    string   `json:"target"`
	Encoding  string   `json:"encoding"`
	URL       string   `json:"url"`  // the first URL of --url (the only one, when one was given)
	URLs      []string `json:"urls"` // every URL of --url; client i dialled URLs[i%len(URLs)]
	Clients   int      `json:"clients"`
	Workers   int      `json:"workers"`
	SourceIPs int      `json:"source_addresses"`
	Rate      float64  `json:"rate"`
	Size      int      `json:"size"`
	Rooms     int      `json:"rooms,omitempty"`
	Duration  float64  `json:"duration_seconds"`

	Connected            int64   `json:"connected"`
	ConnectFailures      int64   `json:"connect_failures"`
	SetupSeconds         float64 `json:"setup_seconds"`
	ConnectionsPerSecond float64 `json:"connections_per_second"`
	ConnectLatency       Latency `json:"connect_latency"`

	Storm *Storm `json:"storm,omitempty"`

	Publications        *Publications `json:"publications,omitempty"`
	Deliveries          int64         `json:"deliveries"`
	DeliveriesPerSecond float64       `json:"deliveries_per_second"`
	Expected            int64         `json:"expected_deliveries"`
	Lost                int64         `json:"lost"`
	Duplicates          int64         `json:"duplicates"`
	Latency             Latency       `json:"latency"`
	// WireBytes is what the clients read from their sockets after the
	// handshakes (frame headers, pings and the connect and subscribe
	// replies included), and WireBytesPerDelivery that over the
	// deliveries.
	WireBytes            int64   `json:"wire_bytes"`
	WireBytesPerDelivery float64 `json:"wire_bytes_per_delivery,omitempty"`

	Dropped     int64            `json:"connections_dropped"`
	BadMessages int64            `json:"bad_messages"`
	Errors      int64            `json:"errors"`
	ErrorKinds  map[string]int64 `json:"error_kinds,omitempty"`

	Server    *ServerUsage   `json:"server,omitempty"`
	Generator GeneratorUsage `json:"generator"`
	// MachineBusyPercent is how busy all the machine's CPUs were during
	// the measured phase (100 = every core saturated).
	MachineBusyPercent float64  `json:"machine_busy_percent"`
	Warnings           []string `json:"warnings,omitempty"`

	latency     *hdr.Histogram
	connLatency *hdr.Histogram
}

// Latency summarizes a histogram, in milliseconds.
type Latency struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
	Mean  float64 `json:"mean"`
}

// summarize reads the percentiles of a microsecond histogram.
func summarize(h *hdr.Histogram) Latency {
	if h.TotalCount() == 0 {
		return Latency{}
	}
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return Latency{
		Count: h.TotalCount(),
		P50:   ms(h.ValueAtQuantile(50)),
		P90:   ms(h.ValueAtQuantile(90)),
		P99:   ms(h.ValueAtQuantile(99)),
		P999:  ms(h.ValueAtQuantile(99.9)),
		Max:   ms(h.Max()),
		Mean:  h.Mean() / 1000,
	}
}

// Publications counts what was published during the run.
type Publications struct {
	Sent      int64   `json:"sent"`
	OK        int64   `json:"ok"`
	Failed    int64   `json:"failed"`
	PerSecond float64 `json:"per_second"`
	LastError string  `json:"last_error,omitempty"`
}

// ServerUsage is the server's memory and CPU, read from /proc when
// --server-pid is given. With several PIDs (the nodes of a cluster and
// their broker) every figure is the sum over them, CPU per delivery
// included, and Processes gives each one's share. RSSPerClientBytes is
// reported for idle only: under traffic the heap's size says little about
// the connections.
type ServerUsage struct {
	// PID is the first process of --server-pid (the only one when one was
	// given), as before the list existed; PIDs lists them all.
	PID               int     `json:"pid"`
	PIDs              []int   `json:"pids"`
	RSSBeforeKiB      int64   `json:"rss_before_kib"`
	RSSAfterKiB       int64   `json:"rss_after_kib"`
	RSSPerClientBytes float64 `json:"rss_per_client_bytes"`
	CPUSeconds        float64 `json:"cpu_seconds"`
	CPUPercent        float64 `json:"cpu_percent"`
	CPUPerDeliveryUS  float64 `json:"cpu_per_delivery_us,omitempty"`
	// CPUPerConnectionUS is storm's server CPU over the clients that
	// subscribed.
	CPUPerConnectionUS float64 `json:"cpu_per_connection_us,omitempty"`
	// WriteCalls is the write system calls the processes made during the
	// measured phase (syscw of /proc/<pid>/io; 0 where it could not be
	// read), and WriteCallsPerDelivery that over the deliveries: below 1
	// when a server puts several messages into one write.
	WriteCalls            int64          `json:"write_calls"`
	WriteCallsPerDelivery float64        `json:"write_calls_per_delivery,omitempty"`
	Processes             []ProcessUsage `json:"processes"`
}

// ProcessUsage is one server process's memory and CPU during the
// measured phase; Name is its command name from /proc/<pid>/comm.
type ProcessUsage struct {
	PID          int     `json:"pid"`
	Name         string  `json:"name"`
	RSSBeforeKiB int64   `json:"rss_before_kib"`
	RSSAfterKiB  int64   `json:"rss_after_kib"`
	CPUSeconds   float64 `json:"cpu_seconds"`
	CPUPercent   float64 `json:"cpu_percent"`
	WriteCalls   int64   `json:"write_calls"`
}

// GeneratorUsage is the load generator's own CPU and memory.
type GeneratorUsage struct {
	Workers           []WorkerUsage `json:"workers"`
	RSSPerClientBytes float64       `json:"rss_per_client_bytes"`
	CoordinatorCPU    float64       `json:"coordinator_cpu_percent"`
}

// WorkerUsage is one worker process's CPU (percent of one core) during the
// measured phase and its memory at the end.
type WorkerUsage struct {
	Worker      int     `json:"worker"`
	Clients     int     `json:"clients"`
	CPUPercent  float64 `json:"cpu_percent"`
	PeakPercent float64 `json:"peak_cpu_percent"`
	RSSKiB      int64   `json:"rss_kib"`
}

// mergeResults folds the workers' results into r. For fanout,
// r.Publications must be set first: the expected deliveries follow from it.
func (r *Result) mergeResults(results []*workerResult) {
	r.latency, r.connLatency = newHist(), newHist()
	r.ErrorKinds = map[string]int64{}
	var members, acked []int64
	for _, wr := range results {
		if wr == nil {
			continue
		}
		r.Connected += wr.Progress.Connects
		r.ConnectFailures += wr.Progress.ConnFails
		r.Deliveries += wr.Progress.Deliveries
		r.Duplicates += wr.Duplicates
		r.Dropped += wr.Dropped
		r.BadMessages += wr.BadMessages
		r.WireBytes += wr.WireBytes
		r.Errors += wr.Progress.Errors
		for k, v := range wr.Errors {
			r.ErrorKinds[k] += v
		}
		wr.Latency.addTo(r.latency)
		wr.ConnLatency.addTo(r.connLatency)
		members = addInto(members, wr.RoomMembers)
		acked = addInto(acked, wr.RoomAcked)
	}
	r.Latency = summarize(r.latency)
	if r.Deliveries > 0 {
		r.WireBytesPerDelivery = float64(r.WireBytes) / float64(r.Deliveries)
	}
	r.ConnectLatency = summarize(r.connLatency)
	switch r.Scenario {
	case scenarioChat:
		for i := range members {
			r.Expected += members[i] * acked[i]
		}
	case scenarioFanout:
		if r.Publications != nil {
			r.Expected = r.Connected * r.Publications.OK
		}
	}
	var unique int64
	for _, wr := range results {
		if wr != nil {
			unique += wr.Unique
		}
	}
	r.Lost = max(0, r.Expected-unique)
	if len(r.ErrorKinds) == 0 {
		r.ErrorKinds = nil
	}
}

// addInto adds b to a element-wise, growing a.
func addInto(a, b []int64) []int64 {
	for len(a) < len(b) {
		a = append(a, 0)
	}
	for i, v := range b {
		a[i] += v
	}
	return a
}
