package clustertest

import "testing"

// TestCheckerFindsEveryBrokenPromise: the checker is what the fault tests
// rely on, so it must catch each kind of failure and excuse only gaps that
// were reported.
func TestCheckerFindsEveryBrokenPromise(t *testing.T) {
	ack := func(c *Checker, seqs ...int64) {
		for _, s := range seqs {
			c.Acked("ch", s)
		}
	}
	t.Run("all delivered", func(t *testing.T) {
		c := NewChecker()
		r := c.Client("a", "ch")
		r.Subscribed(false, false, false, 0)
		ack(c, 0, 1, 2)
		r.Received(0, 1)
		r.Received(1, 2)
		r.Received(2, 3)
		if rep := c.Check(); !rep.OK() || rep.Delivered != 3 || rep.Acknowledged != 3 {
			t.Fatalf("%v\n%s", rep, rep.Summary(5))
		}
	})
	t.Run("missing", func(t *testing.T) {
		c := NewChecker()
		r := c.Client("a", "ch")
		r.Subscribed(false, false, false, 0)
		ack(c, 0, 1, 2)
		r.Received(0, 1)
		r.Received(2, 3)
		if rep := c.Check(); rep.Missing != 1 || rep.OK() {
			t.Fatalf("want 1 missing: %v", rep)
		}
	})
	t.Run("before the first subscribe is not required", func(t *testing.T) {
		c := NewChecker()
		ack(c, 0, 1)
		r := c.Client("a", "ch")
		r.Subscribed(false, false, false, 2)
		ack(c, 2)
		r.Received(2, 3)
		if rep := c.Check(); !rep.OK() {
			t.Fatalf("%v", rep)
		}
	})
	t.Run("duplicate", func(t *testing.T) {
		c := NewChecker()
		r := c.Client("a", "ch")
		r.Subscribed(false, false, false, 0)
		ack(c, 0)
		r.Received(0, 1)
		r.Subscribed(true, true, true, 0)
		r.Received(0, 1)
		if rep := c.Check(); rep.Duplicates != 1 {
			t.Fatalf("want a duplicate: %v", rep)
		}
	})
	t.Run("out of order", func(t *testing.T) {
		c := NewChecker()
		r := c.Client("a", "ch")
		r.Subscribed(false, false, false, 0)
		ack(c, 0, 1)
		r.Received(1, 5)
		r.Received(0, 4)
		if rep := c.Check(); rep.OutOfOrder != 1 {
			t.Fatalf("want out of order: %v", rep)
		}
	})
	t.Run("reported gap is excused, an unreported one is not", func(t *testing.T) {
		c := NewChecker()
		r := c.Client("a", "ch")
		r.Subscribed(false, false, false, 0)
		ack(c, 0, 1, 2, 3, 4, 5)
		r.Received(0, 1)
		r.Subscribed(true, true, false, 0) // recovered:false
		r.Received(3, 1)                   // a new epoch starts over
		r.Received(5, 3)                   // 4 is missing, after the gap closed
		rep := c.Check()
		if rep.Excused != 2 || rep.Missing != 1 || rep.Reported != 1 || rep.OutOfOrder != 0 {
			t.Fatalf("want 1,2 excused and 4 missing: %v\n%s", rep, rep.Summary(5))
		}
	})
	t.Run("a recovered resubscribe excuses nothing", func(t *testing.T) {
		c := NewChecker()
		r := c.Client("a", "ch")
		r.Subscribed(false, false, false, 0)
		ack(c, 0, 1, 2)
		r.Received(0, 1)
		r.Subscribed(true, true, true, 0)
		r.Received(2, 3)
		if rep := c.Check(); rep.Missing != 1 || rep.Recovered != 1 {
			t.Fatalf("want 1 missing: %v", rep)
		}
	})
}
