package settings

import (
	"log/slog"
	"testing"
	"time"
)

func TestFill(t *testing.T) {
	var prefix string
	var timeout, ttl, empty, check time.Duration
	var logger *slog.Logger
	check = -time.Second
	ttl = 5 * time.Second
	Common{&prefix, &timeout, &ttl, &empty, &check, &logger}.Fill()
	if prefix != Prefix || timeout != Timeout || ttl != 5*time.Second || empty != EmptyStreamTTL || check != PositionCheck || logger == nil {
		t.Fatalf("filled: %q %v %v %v %v %v", prefix, timeout, ttl, empty, check, logger)
	}
}
