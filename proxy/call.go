package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/protocol"
)

// Errors a client sees when the backend gives no usable answer: all carry
// code 112 (backend unavailable, retry later); on connect the connection
// closes with 3004 (reconnect with backoff).
var (
	ErrBusy        = herald.NewError(protocol.CodeBackendUnavailable, "too many calls to the application's backend are in flight on this node: retry later")
	ErrTimeout     = herald.NewError(protocol.CodeBackendUnavailable, "the application's backend did not answer in time: retry later")
	ErrUnreachable = herald.NewError(protocol.CodeBackendUnavailable, "the application's backend cannot be reached: retry later")
	ErrBadAnswer   = herald.NewError(protocol.CodeBackendUnavailable, "the application's backend gave an answer Herald cannot use: retry later")
)

// answer is the JSON a backend answers: exactly one of its fields.
type answer struct {
	Result     json.RawMessage `json:"result"`
	Error      *backendError   `json:"error"`
	Disconnect *disconnect     `json:"disconnect"`
}

type backendError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type disconnect struct {
	Code   int    `json:"code"`
	Reason string `json:"reason"`
}

// failure is a call that got no usable answer: its outcome for the
// metrics, the client's error, and the cause for the log.
type failure struct {
	outcome string
	client  *herald.Error
	cause   error
}

func (f *failure) Error() string { return f.client.Message + ": " + f.cause.Error() }
func (f *failure) Unwrap() error { return f.client }

// call POSTs body to ep for event, forwarding the allowed headers and
// cookies of header, and returns the backend's answer, its result decoded
// into res when res is not nil. Its error is a *failure when there is no
// usable answer.
func (p *Proxy) call(ctx context.Context, event string, ep *Endpoint, header http.Header, body, res any) (*answer, error) {
	select {
	case p.sem <- struct{}{}:
	default:
		p.m.calls.WithLabelValues(event, outcomeBusy).Inc()
		p.logFailure(event, outcomeBusy, errors.New("max_concurrent reached"))
		return nil, &failure{outcomeBusy, ErrBusy, errors.New("max_concurrent reached")}
	}
	p.m.inFlight.Inc()
	start := time.Now()
	defer func() {
		<-p.sem
		p.m.inFlight.Dec()
		p.m.duration.WithLabelValues(event).Observe(time.Since(start).Seconds())
	}()

	a, err := p.attempts(ctx, event, ep, header, body)
	if err == nil && a.Result != nil && res != nil {
		err = decodeResult(a.Result, res)
	}
	outcome := outcomeOK
	var f *failure
	switch {
	case errors.As(err, &f):
		outcome = f.outcome
		p.logFailure(event, outcome, f.cause)
	case a.Error != nil:
		outcome = outcomeError
	case a.Disconnect != nil:
		outcome = outcomeDisconnect
	}
	p.m.calls.WithLabelValues(event, outcome).Inc()
	return a, err
}

// attempts makes the call, again after a failure without an answer while
// ep.Retries and the timeout allow.
func (p *Proxy) attempts(ctx context.Context, event string, ep *Endpoint, header http.Header, body any) (*answer, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, &failure{outcomeBadAnswer, ErrBadAnswer, fmt.Errorf("encode the request: %w", err)}
	}
	timeout := ep.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	backoff := 50 * time.Millisecond
	for try := 0; ; try++ {
		a, retry, err := p.once(ctx, event, ep, header, payload)
		if !retry || try >= ep.Retries || !idempotent(event) {
			return a, err
		}
		select {
		case <-ctx.Done():
			return nil, &failure{outcomeTimeout, ErrTimeout, err}
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

// once makes one HTTP request and decodes its answer; retry says whether
// the failure happened before the backend could act on the request.
func (p *Proxy) once(ctx context.Context, event string, ep *Endpoint, header http.Header, payload []byte) (a *answer, retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(payload))
	if err != nil {
		return nil, false, &failure{outcomeUnreachable, ErrUnreachable, err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "herald-proxy")
	forward(req.Header, header, ep)
	for k, v := range ep.StaticHeaders {
		req.Header.Set(k, v)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, &failure{outcomeTimeout, ErrTimeout, err}
		}
		return nil, true, &failure{outcomeUnreachable, ErrUnreachable, err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, p.maxResponse+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, &failure{outcomeTimeout, ErrTimeout, err}
		}
		return nil, false, &failure{outcomeUnreachable, ErrUnreachable, err}
	}
	switch resp.StatusCode {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return nil, true, &failure{outcomeUnreachable, ErrUnreachable, fmt.Errorf("status %s", resp.Status)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		cause := fmt.Errorf("status %s (want 200 with a JSON answer; redirects are not followed)", resp.Status)
		return nil, false, &failure{outcomeBadAnswer, ErrBadAnswer, cause}
	}
	if int64(len(raw)) > p.maxResponse {
		return nil, false, &failure{outcomeBadAnswer, ErrBadAnswer, fmt.Errorf("answer larger than %d bytes", p.maxResponse)}
	}
	if event == EventSend {
		return &answer{}, false, nil // nothing to decide: any 2xx will do
	}
	a, err = decodeAnswer(raw)
	if err != nil {
		return nil, false, &failure{outcomeBadAnswer, ErrBadAnswer, err}
	}
	return a, false, nil
}

// decodeResult decodes a result into res: a *json.RawMessage takes it as
// is, anything else must match its JSON.
func decodeResult(result json.RawMessage, res any) error {
	if raw, ok := res.(*json.RawMessage); ok {
		*raw = result
		return nil
	}
	if err := json.Unmarshal(result, res); err != nil {
		return &failure{outcomeBadAnswer, ErrBadAnswer, fmt.Errorf("result: %w", err)}
	}
	return nil
}

// decodeAnswer checks that raw is the documented JSON: an object with one
// of result, error (code 100-199 or from 1000) or disconnect (code
// 3000-4999).
func decodeAnswer(raw []byte) (*answer, error) {
	var a answer
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value")
	}
	n := 0
	for _, set := range []bool{a.Result != nil, a.Error != nil, a.Disconnect != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, errors.New(`want exactly one of "result", "error" and "disconnect"`)
	}
	if e := a.Error; e != nil {
		if !(e.Code >= 100 && e.Code <= 199) && e.Code < 1000 {
			return nil, fmt.Errorf("error code %d: use 100-199 (Herald's) or 1000 and up (yours)", e.Code)
		}
		if e.Message == "" {
			e.Message = protocol.ErrorMessage(e.Code)
		}
	}
	if d := a.Disconnect; d != nil && (d.Code < 3000 || d.Code > 4999) {
		return nil, fmt.Errorf("disconnect code %d: use 3000-4999 (4000 and up are yours)", d.Code)
	}
	return &a, nil
}

// forward copies the headers and cookies ep allows from the handshake's
// header h into out.
func forward(out, h http.Header, ep *Endpoint) {
	if h == nil {
		return
	}
	for _, name := range ep.Headers {
		if strings.EqualFold(name, "Cookie") {
			continue // cookies are forwarded one by one, below
		}
		for _, v := range h.Values(name) {
			out.Add(name, v)
		}
	}
	if len(ep.Cookies) == 0 {
		return
	}
	r := http.Request{Header: h}
	var kept []string
	for _, c := range r.Cookies() {
		for _, name := range ep.Cookies {
			if c.Name == name {
				kept = append(kept, c.Name+"="+c.Value)
				break
			}
		}
	}
	if len(kept) > 0 {
		out.Set("Cookie", strings.Join(kept, "; "))
	}
}
