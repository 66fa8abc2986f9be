package cli

import (
	"context"
	"net"
)

// listen opens a TCP listener whose accepted connections have no TCP
// keep-alive probes. Go turns them on by default, at four setsockopt calls
// per accepted connection, about 5% of the server's CPU under connection
// churn. Herald has no use for them: a WebSocket client's liveness is the
// ping/pong heartbeat (--ping-interval, --pong-timeout), which also catches
// a peer that vanished without closing, and an idle HTTP connection closes
// after the server's idle timeout.
func listen(addr string) (net.Listener, error) {
	lc := net.ListenConfig{KeepAlive: -1}
	return lc.Listen(context.Background(), "tcp", addr)
}
