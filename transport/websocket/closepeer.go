package websocket

import (
	"time"

	"github.com/lesismal/nbio"
)

// peerCloseWait bounds how long a finished close handshake waits for the
// client to close its end of the TCP connection.
const peerCloseWait = 50 * time.Millisecond

// awaitPeerClose waits, at most peerCloseWait, until the poller has seen
// the client close the TCP connection and closed the socket itself.
//
// It works around a race in nbio v1.6.8. nbio handles a close frame on a
// worker goroutine and closes the socket right after the close handler
// returns. By then the client has the server's close frame and closes its
// end, and the poller may already hold that hang-up event in the batch it
// is working through. If a new connection takes the freed descriptor
// number before the poller reaches the event, the poller applies the
// hang-up to the new connection, which is dropped right after its
// handshake (about one connection in 6,000 under herald bench churn).
// When the poller closes the socket instead, on the client's hang-up,
// the number is freed on the poller's goroutine, after the event, and
// the race cannot happen. A client that does not close within
// peerCloseWait is closed by the server as before.
//
// Only plain connections are on the poller; TLS connections are served
// in blocking mode and return at once.
func (c *Conn) awaitPeerClose() {
	nc, ok := c.ws.UnderlayerConn().(*nbio.Conn)
	if !ok {
		return
	}
	pause := 100 * time.Microsecond
	for deadline := time.Now().Add(peerCloseWait); ; {
		if closed, _ := nc.IsClosed(); closed {
			return
		}
		if time.Now().After(deadline) {
			return
		}
		time.Sleep(pause)
		pause = min(pause*2, 5*time.Millisecond)
	}
}
