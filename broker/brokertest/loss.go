package brokertest

import (
	"sync"

	"github.com/heraldrt/herald/broker"
)

// LossRecorder is a Recorder that also implements broker.StateLossHandler,
// for the tests of brokers that can lose publications.
type LossRecorder struct {
	*Recorder
	mu     sync.Mutex
	losses []string
}

var _ broker.StateLossHandler = (*LossRecorder)(nil)

// NewLossRecorder returns an empty LossRecorder.
func NewLossRecorder() *LossRecorder { return &LossRecorder{Recorder: NewRecorder()} }

// HandleStateLoss implements broker.StateLossHandler.
func (r *LossRecorder) HandleStateLoss(channel string) {
	r.mu.Lock()
	r.losses = append(r.losses, channel)
	r.mu.Unlock()
}

// Losses returns the channels of the state losses reported, in order.
func (r *LossRecorder) Losses() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.losses...)
}
