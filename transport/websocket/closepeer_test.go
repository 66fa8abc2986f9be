package websocket

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/wsframe"
)

// timeWaitOn counts the IPv4 sockets in TIME_WAIT whose local port is
// port and, unless remote is 0, whose remote port is remote, from
// /proc/net/tcp: the side that closed a TCP connection first holds its
// TIME_WAIT.
func timeWaitOn(t *testing.T, port, remote int) int {
	t.Helper()
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		t.Skip("no /proc/net/tcp:", err)
	}
	defer f.Close()
	want := fmt.Sprintf(":%04X", port)
	wantRemote := fmt.Sprintf(":%04X", remote)
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 3 && strings.HasSuffix(fields[1], want) && fields[3] == "06" &&
			(remote == 0 || strings.HasSuffix(fields[2], wantRemote)) {
			n++
		}
	}
	return n
}

// closeFirst does a client-initiated close handshake the way clients do:
// close frame, the server's answer, then the client closes TCP.
func closeFirst(t *testing.T, c net.Conn, readFrame func() (byte, []byte, error), send func(op byte, p []byte) error) {
	t.Helper()
	if err := send(wsframe.OpClose, binary.BigEndian.AppendUint16(nil, 1000)); err != nil {
		t.Fatal(err)
	}
	op, _, err := readFrame()
	if err != nil || op != wsframe.OpClose {
		t.Fatalf("answer to close: op %d, %v", op, err)
	}
	_ = c.Close()
}

// After a client-initiated close handshake the server lets the client
// close TCP first, so that the socket is closed by nbio's poller on the
// client's hang-up and not by a worker goroutine while the poller may
// still hold an event for its descriptor number (closepeer.go). The sign
// is where TIME_WAIT ends up: on the client's port, not the server's.
func TestServerLetsTheClientCloseTCPFirst(t *testing.T) {
	dial := echoDialer(t, false)
	const rounds = 20
	var serverPort int
	var clientPorts []int
	for i := 0; i < rounds; i++ {
		c := dial()
		expectEcho(t, c, "hi")
		serverPort = c.Conn.RemoteAddr().(*net.TCPAddr).Port
		clientPorts = append(clientPorts, c.Conn.LocalAddr().(*net.TCPAddr).Port)
		closeFirst(t, c.Conn,
			func() (byte, []byte, error) { return c.ReadFrame(5 * time.Second) },
			func(op byte, p []byte) error { return c.WriteFrame(op, p, false) })
	}
	// Loopback may reuse a port whose connection is in TIME_WAIT
	// (net.ipv4.tcp_tw_reuse): such a port holds one TIME_WAIT for two
	// connections, so count ports, not connections.
	slices.Sort(clientPorts)
	clientPorts = slices.Compact(clientPorts)
	deadline := time.Now().Add(5 * time.Second)
	for {
		onClients := 0
		for _, p := range clientPorts {
			onClients += timeWaitOn(t, p, serverPort)
		}
		onServer := timeWaitOn(t, serverPort, 0)
		if onServer > 0 {
			t.Fatalf("%d of %d connections left TIME_WAIT on the server: the server closed TCP before the client", onServer, rounds)
		}
		if onClients == len(clientPorts) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("TIME_WAIT on %d of %d client ports", onClients, len(clientPorts))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A client that keeps its end open after the close handshake is still
// disconnected by the server, after peerCloseWait.
func TestServerClosesWhenTheClientDoesNot(t *testing.T) {
	dial := echoDialer(t, false)
	c := dial()
	expectEcho(t, c, "hi")
	if err := c.WriteFrame(wsframe.OpClose, binary.BigEndian.AppendUint16(nil, 1000), false); err != nil {
		t.Fatal(err)
	}
	if op, _, err := c.ReadFrame(5 * time.Second); err != nil || op != wsframe.OpClose {
		t.Fatalf("answer to close: op %d, %v", op, err)
	}
	_ = c.Conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := c.Conn.Read(make([]byte, 1))
	if !errors.Is(err, io.EOF) {
		t.Fatalf("read after the handshake: %v, want EOF from the server", err)
	}
}
