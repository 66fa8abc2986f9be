package bench

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// handshakeTimeout bounds dialing, the WebSocket handshake, connect and
// subscribe of one client.
const handshakeTimeout = 10 * time.Second

// client is one simulated connection. Its reader goroutine owns the
// receive-side fields.
type client struct {
	w       *worker
	idx     int // global client index
	room    int // chat: room index; otherwise 0
	channel string
	ws      *wsConn

	// storm: whether to read the subscribe reply's position and
	// recovery, the position to recover from (nil: a plain subscribe),
	// and what the reply reported
	storm       bool
	recoverFrom *position
	recovery    subscribeOutcome

	// reader-owned
	seen []uint64        // fanout: bitset of sequence numbers received
	last map[int64]int64 // chat: highest sequence number per sender

	// publisher-owned (chat)
	pubMu  sync.Mutex
	pubSeq int64
	nextID uint64
	data   []byte
	frame  []byte
}

// open dials the server, connects and subscribes. On success the client
// is ready to read.
func (w *worker) open(idx int, channel string) (*client, error) {
	return w.openClient(&client{w: w, idx: idx, channel: channel, nextID: 2})
}

// openClient dials for c (whose w, idx and channel are set), connects and
// subscribes, and counts the connect.
func (w *worker) openClient(c *client) (*client, error) {
	start := time.Now()
	ws, err := dialWS(w.dialer(c.idx), w.urlOf(c.idx), w.codec.subprotocol(), handshakeTimeout)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	c.ws = ws
	if err := c.handshake(); err != nil {
		ws.closeNow()
		return nil, err
	}
	w.st.connected(int64(time.Since(start)))
	return c, nil
}

// handshake sends connect and subscribe in one frame and waits for both
// replies; anything else that arrives meanwhile is handled as usual.
func (c *client) handshake() error {
	ws := c.ws
	_ = ws.conn.SetDeadline(time.Now().Add(handshakeTimeout))
	defer func() { _ = ws.conn.SetDeadline(time.Time{}) }()
	ws.wire = &c.w.st.wireBytes
	hello := c.w.codec.connectSubscribe(c.channel)
	if c.recoverFrom != nil {
		hello = c.w.recovering.connectRecover(c.channel, *c.recoverFrom)
	}
	if err := ws.writeFrame(c.w.codec.opcode(), hello); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	replies := 0
	for replies < 2 {
		msg, err := ws.next()
		if err != nil {
			return fmt.Errorf("connect: %w", err)
		}
		err = c.w.codec.split(msg, func(line []byte) error {
			ev := c.w.codec.parse(line)
			if ev.kind == evReply && ev.id <= 2 {
				if ev.err != "" {
					return fmt.Errorf("connect or subscribe refused: %s", ev.err)
				}
				replies++
				if ev.id == 2 && c.storm {
					c.recovery = parseSubscribeOutcome(line)
				}
				return nil
			}
			c.handle(ev)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// read handles incoming messages until the connection ends.
func (c *client) read() {
	defer c.w.st.open.Add(-1)
	err := c.ws.serve(func(msg []byte) {
		_ = c.w.codec.split(msg, func(line []byte) error {
			c.handle(c.w.codec.parse(line))
			return nil
		})
	})
	if !c.w.stopping.Load() && !errors.Is(err, net.ErrClosed) {
		c.w.st.dropped.Add(1)
		c.w.st.fail("connection lost", err)
	}
	c.ws.closeNow()
}

// handle acts on one message.
func (c *client) handle(ev event) {
	st := c.w.st
	switch ev.kind {
	case evPub:
		c.deliver(ev.data)
	case evPing:
		if err := c.ws.writeFrame(c.w.codec.opcode(), c.w.codec.pong()); err != nil && !c.w.stopping.Load() {
			st.fail("pong", err)
		}
	case evReply:
		if ev.err != "" {
			st.pubFailed.Add(1)
			st.fail("publish", errors.New(ev.err))
			return
		}
		st.pubAcked.Add(1)
		if c.w.roomAcked != nil {
			c.w.roomAcked[c.room].Add(1)
		}
	case evDisconnect:
		if !c.w.stopping.Load() {
			st.fail("server", errors.New(ev.err))
		}
	default:
		st.badMessages.Add(1)
	}
}

// deliver records one publication received.
func (c *client) deliver(data []byte) {
	now := time.Now().UnixNano()
	from, seq, sent, ok := parsePayload(data)
	if !ok || seq < 0 {
		c.w.st.badMessages.Add(1)
		return
	}
	dup := false
	if from < 0 {
		word, bit := seq/64, uint64(1)<<(seq%64)
		if n := int(word) + 1; n > len(c.seen) {
			if n > 1<<24 {
				c.w.st.badMessages.Add(1)
				return
			}
			c.seen = append(c.seen, make([]uint64, n-len(c.seen)+len(c.seen)/2)...)
		}
		dup = c.seen[word]&bit != 0
		c.seen[word] |= bit
	} else {
		if c.last == nil {
			c.last = make(map[int64]int64)
		}
		dup = seq <= c.last[from]
		if !dup {
			c.last[from] = seq
		}
	}
	c.w.st.deliver(c.idx, now-sent, dup)
}

// publish sends one publication carrying this client's next sequence
// number and the time now.
func (c *client) publish(size int) {
	c.pubMu.Lock()
	defer c.pubMu.Unlock()
	c.pubSeq++
	c.nextID++
	c.data = appendPayload(c.data[:0], int64(c.idx), c.pubSeq, time.Now().UnixNano(), size)
	c.frame = c.w.codec.appendPublish(c.frame[:0], c.nextID, c.channel, c.data)
	c.w.st.pubSent.Add(1)
	// A server that stops reading must not stall the publishing loop.
	_ = c.ws.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	err := c.ws.writeFrame(c.w.codec.opcode(), c.frame)
	_ = c.ws.conn.SetWriteDeadline(time.Time{})
	if err != nil {
		c.w.st.pubFailed.Add(1)
		c.w.st.fail("publish", err)
	}
}
