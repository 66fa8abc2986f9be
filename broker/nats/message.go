package nats

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/broker/internal/announce"
)

// Headers of a message in the history stream. Its body is the
// publication's JSON without its offset; a position marker has no body
// and offset 0.
const (
	hdrOffset = "Herald-Offset" // the channel offset, 1, 2, 3... within the epoch; 0 for a marker
	hdrEpoch  = "Herald-Epoch"  // the epoch the offset belongs to
	hdrSize   = "Herald-Size"   // the channel's HistorySize when it was published
	hdrTTL    = "Herald-TTL"    // the channel's HistoryTTL in ms (0: none): it expires TTL after this message
	hdrWindow = "Herald-Window" // the idempotency window in ms, when published with a key
)

// head is the newest message of a channel's history subject: the
// channel's position, and what decides the next one.
type head struct {
	seq    uint64 // stream sequence; 0 when the channel has no history
	offset uint64
	epoch  string
	size   uint64
	ttl    time.Duration
	time   time.Time // when the server stored it
}

// expired reports whether the channel outlived its HistoryTTL since this,
// its newest message: its history is then lost, and so is its epoch.
func (h head) expired(now time.Time) bool {
	return h.seq != 0 && h.ttl > 0 && now.Sub(h.time) > h.ttl
}

// oldest returns the lowest offset the channel's history keeps: messages
// beyond HistorySize are dropped in the background, and ignored until then.
func (h head) oldest() uint64 {
	if h.size > 0 && h.offset > h.size {
		return h.offset - h.size + 1
	}
	return 1
}

var errBadStored = errors.New("nats: malformed history message")

// parseHead reads the headers of a stored message.
func parseHead(m *jetstream.RawStreamMsg) (head, error) {
	h := head{seq: m.Sequence, time: m.Time, epoch: m.Header.Get(hdrEpoch)}
	var err1, err2, err3 error
	h.offset, err1 = strconv.ParseUint(m.Header.Get(hdrOffset), 10, 64)
	h.size, err2 = strconv.ParseUint(m.Header.Get(hdrSize), 10, 64)
	ttl, err3 := strconv.ParseInt(m.Header.Get(hdrTTL), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || h.epoch == "" {
		return head{}, errBadStored
	}
	h.ttl = time.Duration(ttl) * time.Millisecond
	return h, nil
}

// storedMsg builds the history message of a publication (payload nil for
// a position marker).
func storedMsg(subject string, payload []byte, offset uint64, epoch string, size uint64, ttl time.Duration) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Data = payload
	m.Header.Set(hdrOffset, strconv.FormatUint(offset, 10))
	m.Header.Set(hdrEpoch, epoch)
	m.Header.Set(hdrSize, strconv.FormatUint(size, 10))
	m.Header.Set(hdrTTL, strconv.FormatInt(ttl.Milliseconds(), 10))
	return m
}

// What a channel's live subject carries, told by the first byte:
//
//	p<offset> <epoch> <stream seq> <publication JSON>   a publication (0, "" and 0 without history)
//	j<ClientInfo JSON>                                  a join
//	l<ClientInfo JSON>                                  a leave
//
// liveMsg writes the first form, package announce the others. The control
// subject carries the control message's bytes unchanged.

// liveMsg encodes a publication for its live subject.
func liveMsg(offset uint64, epoch string, seq uint64, payload []byte) []byte {
	out := make([]byte, 0, len(payload)+len(epoch)+24)
	out = append(out, announce.KindPublication)
	out = strconv.AppendUint(out, offset, 10)
	out = append(out, ' ')
	out = append(out, epoch...)
	out = append(out, ' ')
	out = strconv.AppendUint(out, seq, 10)
	out = append(out, ' ')
	return append(out, payload...)
}

var errBadMessage = errors.New("nats: malformed live message")

// parseLive decodes the body of a live publication (after its kind byte).
func parseLive(body []byte) (pub *broker.Publication, epoch string, seq uint64, err error) {
	s := string(body)
	off, rest, ok1 := strings.Cut(s, " ")
	epoch, rest, ok2 := strings.Cut(rest, " ")
	sq, payload, ok3 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || !ok3 {
		return nil, "", 0, errBadMessage
	}
	offset, err1 := strconv.ParseUint(off, 10, 64)
	seq, err2 := strconv.ParseUint(sq, 10, 64)
	if err1 != nil || err2 != nil {
		return nil, "", 0, errBadMessage
	}
	pub, err = decodePub([]byte(payload), offset)
	return pub, epoch, seq, err
}

// decodePub decodes a stored publication and gives it its offset.
func decodePub(payload []byte, offset uint64) (*broker.Publication, error) {
	pub := new(broker.Publication)
	if err := json.Unmarshal(payload, pub); err != nil {
		return nil, err
	}
	pub.Offset = offset
	return pub, nil
}

// encodePub encodes a publication for storage, without its offset.
func encodePub(pub *broker.Publication) ([]byte, error) {
	stored := *pub
	stored.Offset = 0
	return json.Marshal(&stored)
}
