// Package redistest holds what tests that use a shared Redis need: the
// removal of the keys they wrote under a prefix of their own.
package redistest

import (
	"context"
	"time"

	"github.com/redis/rueidis"
)

// DeleteKeys deletes the keys matching pattern (a prefix and a *) on the
// Redis at addr (host:port). A Redis that is gone (a fault test stopped
// it) has nothing to clean: errors are ignored.
func DeleteKeys(addr, pattern string) {
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, DisableCache: true})
	if err != nil {
		return
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var cursor uint64
	for {
		e, err := c.Do(ctx, c.B().Scan().Cursor(cursor).Match(pattern).Count(1000).Build()).AsScanEntry()
		if err != nil {
			return
		}
		if len(e.Elements) > 0 {
			c.Do(ctx, c.B().Del().Key(e.Elements...).Build())
		}
		if cursor = e.Cursor; cursor == 0 {
			return
		}
	}
}
