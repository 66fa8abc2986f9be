package webhook

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
)

// Event names.
const (
	ChannelOccupied = "channel_occupied" // a channel got its first subscriber in the cluster
	ChannelVacated  = "channel_vacated"  // its last subscriber left
	MemberAdded     = "member_added"     // a user's first subscription to a presence channel
	MemberRemoved   = "member_removed"   // the user's last one ended
	UserOnline      = "user_online"      // a user's first connection in the cluster
	UserOffline     = "user_offline"     // the user's last connection ended
	Publication     = "publication"      // a publication in a namespace of Config.Publications
)

// Names lists every event name.
var Names = []string{ChannelOccupied, ChannelVacated, MemberAdded, MemberRemoved, UserOnline, UserOffline, Publication}

// Event is one webhook event. ID is unique: a receiver that sees an ID
// twice (delivery is at least once) ignores the second.
type Event struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	TimeMS  int64  `json:"time_ms"`
	Channel string `json:"channel,omitempty"`
	User    string `json:"user,omitempty"`
	// Node is the node that saw the change.
	Node string `json:"node"`
	// Data and Offset are a publication's (User is its publisher's).
	// A binary publication's Data is a JSON string holding the base64 of
	// its bytes, with Binary set.
	Data   json.RawMessage `json:"data,omitempty"`
	Binary bool            `json:"binary,omitempty"`
	Offset uint64          `json:"offset,omitempty"`

	seq uint64 // position in a sender's queue
}

// Batch is the body of one webhook request.
type Batch struct {
	Events []Event `json:"events"`
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
