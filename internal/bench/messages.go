package bench

// The coordinator and its workers talk in JSON lines. The coordinator
// writes a workerSpec and then the commands "go" and "stop" to a worker's
// standard input; the worker writes workerMsg lines to its standard output.

// workerSpec tells a worker which clients it runs.
type workerSpec struct {
	Config config `json:"config"`
	Index  int    `json:"index"`
	First  int    `json:"first"` // global index of its first client
	Count  int    `json:"count"`
}

// Message types a worker sends.
const (
	msgProgress = "progress"
	msgReady    = "ready"
	msgResult   = "result"
)

// workerMsg is one line from a worker.
type workerMsg struct {
	Type     string        `json:"type"`
	Worker   int           `json:"worker"`
	Progress progress      `json:"progress"`
	Result   *workerResult `json:"result,omitempty"`
}

// progress is a worker's running totals.
type progress struct {
	Open       int64   `json:"open"`
	Connects   int64   `json:"connects"`
	ConnFails  int64   `json:"conn_fails"`
	Deliveries int64   `json:"deliveries"`
	PubSent    int64   `json:"pub_sent"`
	PubAcked   int64   `json:"pub_acked"`
	Errors     int64   `json:"errors"`
	CPU        float64 `json:"cpu_seconds"`
	StormDone  bool    `json:"storm_done,omitempty"`
}

// workerResult is a worker's final figures.
type workerResult struct {
	Progress    progress         `json:"progress"`
	Unique      int64            `json:"unique"`
	Duplicates  int64            `json:"duplicates"`
	PubFailed   int64            `json:"pub_failed"`
	Dropped     int64            `json:"dropped"`
	BadMessages int64            `json:"bad_messages"`
	WireBytes   int64            `json:"wire_bytes"`
	Latency     sparseHist       `json:"latency"`
	ConnLatency sparseHist       `json:"conn_latency"`
	Errors      map[string]int64 `json:"errors,omitempty"`
	RoomMembers []int64          `json:"room_members,omitempty"`
	RoomAcked   []int64          `json:"room_acked,omitempty"`
	RSSKiB      int64            `json:"rss_kib"`
	Storm       *stormResult     `json:"storm,omitempty"`
}
