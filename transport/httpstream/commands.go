package httpstream

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
)

// Commands is one POST's batch of commands for a stream, as a node that
// does not hold the stream forwards it (Config.Forward) and the node that
// holds it receives it (Server.Deliver).
type Commands struct {
	// Session is the stream's id, from its hello.
	Session string `json:"session"`
	// Secret is the stream's secret, from its hello: without it nobody can
	// send commands into another client's stream.
	Secret string `json:"secret"`
	// Seq numbers the stream's POSTs from 1.
	Seq uint64 `json:"seq"`
	// Frame holds the commands, newline-separated.
	Frame string `json:"frame"`
}

// Errors of Deliver.
var (
	// ErrUnknownSession: no open stream here has that id.
	ErrUnknownSession = errors.New("httpstream: no such stream on this node")
	// ErrBadSecret: the secret is not the stream's.
	ErrBadSecret = errors.New("httpstream: wrong secret for the stream")
	// ErrTooFarAhead: seq is more than maxAhead past the next one to run.
	ErrTooFarAhead = errors.New("httpstream: too many commands waiting for earlier ones; retry")
)

// maxAhead bounds the POSTs that a stream keeps while it waits for an
// earlier one (which took a slower route, or is still running).
const maxAhead = 16

// serveCommands takes one POST: a first line naming the stream, its secret
// and the POST's seq, then the commands.
func (s *Server) serveCommands(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(s.cfg.MaxMessageSize)+512))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, "httpstream: commands exceed the message size limit", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "httpstream: reading the body: "+err.Error(), http.StatusBadRequest)
		return
	}
	head, frame, _ := bytes.Cut(body, []byte{'\n'})
	var cmds Commands
	if err := json.Unmarshal(head, &cmds); err != nil || cmds.Session == "" || cmds.Seq == 0 {
		http.Error(w, `httpstream: the body's first line must be {"session":"...","secret":"...","seq":N}`, http.StatusBadRequest)
		return
	}
	if len(frame) > s.cfg.MaxMessageSize {
		http.Error(w, "httpstream: commands exceed the message size limit", http.StatusRequestEntityTooLarge)
		return
	}
	cmds.Frame = string(frame)
	err = s.Deliver(cmds)
	switch {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, ErrUnknownSession) && s.cfg.Forward != nil:
		if err := s.cfg.Forward(r.Context(), cmds); err != nil {
			s.cfg.Logger.Warn("forwarding commands failed", "session", cmds.Session, "error", err)
			http.Error(w, "httpstream: could not reach the node of the stream; retry", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	case errors.Is(err, ErrUnknownSession):
		http.Error(w, err.Error(), http.StatusNotFound)
	case errors.Is(err, ErrBadSecret):
		http.Error(w, err.Error(), http.StatusForbidden)
	case errors.Is(err, ErrTooFarAhead):
		w.Header().Set("Retry-After", "1")
		http.Error(w, err.Error(), http.StatusTooManyRequests)
	default:
		http.Error(w, err.Error(), http.StatusGone)
	}
}

// Deliver queues a batch of commands for the stream it names, when this
// server holds that stream; they run in seq order, once each (a seq already
// seen is ignored).
func (s *Server) Deliver(cmds Commands) error {
	c := s.lookup(cmds.Session)
	if c == nil {
		return ErrUnknownSession
	}
	if subtle.ConstantTimeCompare([]byte(cmds.Secret), []byte(c.secret)) != 1 {
		return ErrBadSecret
	}
	return c.in.put(c, cmds.Seq, []byte(cmds.Frame))
}

// inbox holds a stream's POSTed batches until they run, in seq order, on a
// goroutine that exists only while there is something to run.
type inbox struct {
	mu      sync.Mutex
	next    uint64 // the seq that runs next, from 1
	held    map[uint64][]byte
	running bool
	closed  bool
}

func (in *inbox) put(c *Conn, seq uint64, frame []byte) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return errClosed
	}
	if in.next == 0 {
		in.next = 1
	}
	if seq < in.next || in.held[seq] != nil {
		return nil // seen already: a retried POST
	}
	if seq-in.next >= maxAhead {
		return ErrTooFarAhead
	}
	if in.held == nil {
		in.held = make(map[uint64][]byte)
	}
	in.held[seq] = frame
	if !in.running && seq == in.next {
		in.running = true
		go in.drain(c)
	}
	return nil
}

// drain runs the held batches while the next one is there.
func (in *inbox) drain(c *Conn) {
	for {
		in.mu.Lock()
		frame, ok := in.held[in.next]
		if !ok || in.closed {
			in.running = false
			in.mu.Unlock()
			return
		}
		delete(in.held, in.next)
		in.next++
		in.mu.Unlock()
		c.peer.HandleFrame(frame, true)
	}
}

// close drops what is held; later batches are refused.
func (in *inbox) close() {
	in.mu.Lock()
	in.closed = true
	in.held = nil
	in.mu.Unlock()
}
