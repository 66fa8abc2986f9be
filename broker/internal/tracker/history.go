package tracker

import (
	"context"

	"github.com/heraldrt/herald/broker"
)

// Position is where a channel's history stands, or how far delivery of it
// went.
type Position struct {
	// Epoch is "" while the channel has no history.
	Epoch string
	// Offset is the newest publication's, or the last delivered one's.
	Offset uint64
	// Seq is a hint for the History that reads after this position (the
	// NATS stream sequence of the publication at Offset); 0 when unknown
	// or unused.
	Seq uint64
}

// Entry is one publication read from history, with its Seq hint.
type Entry struct {
	Pub *broker.Publication
	Seq uint64
}

// History is how a Tracker reads a channel's history. Neither method may
// create anything: a channel without history has an empty epoch.
type History interface {
	// Head returns the position of the channel's newest publication.
	Head(ctx context.Context, channel string) (Position, error)
	// Read returns the channel's head and the publications of its epoch
	// after after.Offset, up to upTo (to the head when 0), oldest first;
	// those history no longer holds are left out. When the head's epoch
	// is empty, or differs from a non-empty after.Epoch, the publications
	// may be left out: the tracker does not use them.
	Read(ctx context.Context, channel string, after Position, upTo uint64) (Position, []Entry, error)
}
