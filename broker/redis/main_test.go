package redis_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/heraldrt/herald/internal/leaktest"
)

// TestMain fails the run when a test leaks a goroutine. rueidis's Redis
// Cluster client, after a topology refresh, closes the connections it
// replaced five seconds later on a goroutine of its own, even when the
// client itself was closed (TestOnRedisCluster): that one ends by itself.
func TestMain(m *testing.M) {
	leaktest.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/redis/rueidis.(*clusterClient)._refresh.func2"),
		// Through Sentinel, a delayed call finishes its sleep, under a
		// second, on its own.
		goleak.IgnoreAnyFunction("github.com/redis/rueidis.(*call).DelayDo.func1"))
}
