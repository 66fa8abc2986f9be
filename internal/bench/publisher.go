package bench

import (
	"bytes"
	"context"
	"io"
	"net/http"
	neturl "net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldrt/herald/protocol"
)

// maxInFlight bounds the publish requests the coordinator has open.
const maxInFlight = 256

// publisher sends fanout publications through the HTTP API.
type publisher struct {
	http    *http.Client
	url     string // .../api/publish
	key     string
	channel string
	size    int
	binary  bool // publish the payload as bytes (application/octet-stream)

	sent, ok, failed atomic.Int64
	lastErr          atomic.Value // string
}

// newPublisher returns a publisher for cfg.
func newPublisher(cfg config) *publisher {
	tr := &http.Transport{
		MaxIdleConns:        maxInFlight,
		MaxIdleConnsPerHost: maxInFlight,
		MaxConnsPerHost:     maxInFlight,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	return &publisher{
		http:    &http.Client{Transport: tr, Timeout: 10 * time.Second},
		url:     cfg.APIURL + "/publish",
		key:     cfg.APIKey,
		channel: cfg.Channel,
		size:    cfg.Size,
		binary:  cfg.Encoding == encodingProtobuf,
	}
}

// run publishes at rate per second until ctx ends, numbering publications
// from 1, and waits for the requests in flight.
func (p *publisher) run(ctx context.Context, rate float64) {
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	start := time.Now()
	for seq := int64(1); ; seq++ {
		due := start.Add(time.Duration(float64(seq-1) / rate * float64(time.Second)))
		if !sleepCtx(ctx, time.Until(due)) {
			break
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		p.sent.Add(1)
		wg.Go(func() {
			defer func() { <-sem }()
			p.publish(seq)
		})
	}
	wg.Wait()
	p.http.CloseIdleConnections()
}

// publish sends publication seq, stamped with the time now: in JSON, or
// for the binary encoding as the payload's bytes (a binary publication,
// docs/protocol.md section 11.4).
func (p *publisher) publish(seq int64) {
	body := make([]byte, 0, p.size+len(p.channel)+40)
	url, ct := p.url, "application/json"
	if p.binary {
		body = appendPayload(body, -1, seq, time.Now().UnixNano(), p.size)
		url, ct = p.url+"?channel="+neturl.QueryEscape(p.channel), "application/octet-stream"
	} else {
		body = append(body, `{"channel":`...)
		body = protocol.AppendString(body, p.channel)
		body = append(body, `,"data":`...)
		body = appendPayload(body, -1, seq, time.Now().UnixNano(), p.size)
		body = append(body, '}')
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		p.fail(err.Error())
		return
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("X-API-Key", p.key)
	resp, err := p.http.Do(req)
	if err != nil {
		p.fail(errorKind(err))
		return
	}
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	_ = resp.Body.Close()
	// Centrifugo answers errors with 200 and {"error":...}.
	if resp.StatusCode != http.StatusOK || bytes.HasPrefix(answer, []byte(`{"error"`)) {
		p.fail(resp.Status + " " + string(bytes.TrimSpace(answer)))
		return
	}
	p.ok.Add(1)
}

func (p *publisher) fail(msg string) {
	p.failed.Add(1)
	if len(msg) > 200 {
		msg = msg[:200]
	}
	p.lastErr.Store(msg)
}
