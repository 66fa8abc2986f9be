package herald

import (
	"context"
	"time"

	"github.com/heraldrt/herald/protocol"
)

// Shutdown stops the node gracefully: it refuses new connections, sends
// every client a `disconnect` with code 3000 (reconnect), spread over
// Config.ShutdownWindow or until ctx's deadline, waits for the connections
// to close, and then stops the transport and the broker. When ctx ends first,
// the remaining connections are dropped.
func (n *Node) Shutdown(ctx context.Context) error {
	var err error
	n.closeOnce.Do(func() { err = n.shutdown(ctx) })
	return err
}

func (n *Node) shutdown(ctx context.Context) error {
	n.draining.Store(true)
	n.sessionsMu.RLock()
	all := make([]*Session, 0, len(n.sessions))
	for _, s := range n.sessions {
		all = append(all, s)
	}
	n.sessionsMu.RUnlock()

	window := n.cfg.ShutdownWindow
	if dl, ok := ctx.Deadline(); ok {
		// Leave a third of the time for the closes to complete.
		if left := time.Until(dl) * 2 / 3; left < window {
			window = left
		}
	}
	n.log.Info("shutting down", "connections", len(all), "window", window)
	spreadClose(ctx, all, window)

	// Wait for the connections to go, including those that never connected.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for n.accepted.Load() > 0 {
		select {
		case <-ctx.Done():
			n.log.Warn("shutdown deadline passed; dropping connections", "left", n.accepted.Load())
			n.finish()
			return ctx.Err()
		case <-tick.C:
			n.sessionsMu.RLock()
			stragglers := len(n.sessions) == 0
			n.sessionsMu.RUnlock()
			if stragglers {
				// Only unconnected sockets remain: stop waiting for them.
				n.finish()
				return nil
			}
		}
	}
	n.finish()
	return nil
}

// spreadClose closes sessions with CloseShutdown, evenly over window.
func spreadClose(ctx context.Context, sessions []*Session, window time.Duration) {
	if len(sessions) == 0 {
		return
	}
	step := window / time.Duration(len(sessions))
	const minStep = time.Millisecond
	batch := 1
	if step < minStep && window > 0 {
		batch = int(minStep/max(step, 1)) + 1
		step = minStep
	}
	for i, s := range sessions {
		s.closeWith(protocol.CloseShutdown, "")
		if window > 0 && (i+1)%batch == 0 && i+1 < len(sessions) {
			select {
			case <-ctx.Done():
				for _, rest := range sessions[i+1:] {
					rest.closeWith(protocol.CloseShutdown, "")
				}
				return
			case <-time.After(step):
			}
		}
	}
}

func (n *Node) finish() {
	n.server.Stop()
	n.streams.Stop()
	n.wheel.stop()
	n.writer.stop()
	leaveCtx, cancelLeave := context.WithTimeout(context.Background(), time.Second)
	n.sendLeave(leaveCtx)
	cancelLeave()
	n.cancel()
	if err := n.broker.Close(context.Background()); err != nil {
		n.log.Error("close broker", "error", err)
	}
}
