// Package syncbuf has a bytes.Buffer that many goroutines may write at
// once: the sink of a logger whose output a test reads back.
package syncbuf

import (
	"bytes"
	"sync"
)

// Buffer collects writes from any goroutine; String returns them so far.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
