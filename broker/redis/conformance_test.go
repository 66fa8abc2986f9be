package redis_test

import (
	"testing"

	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/broker/brokertest"
)

// TestConformance runs the shared broker suite against the shared Redis,
// each subtest under a key prefix of its own.
func TestConformance(t *testing.T) {
	url := sharedURL()
	needRedis(t, url)
	brokertest.Run(t, func(t *testing.T) broker.Broker {
		return newBroker(t, url, testPrefix(t, url))
	})
}
