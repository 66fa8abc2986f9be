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

// TestCluster runs the two-node suite: two brokers under one prefix on the
// shared Redis are two nodes of one cluster.
func TestCluster(t *testing.T) {
	url := sharedURL()
	needRedis(t, url)
	brokertest.RunCluster(t, func(t *testing.T) (broker.Broker, broker.Broker) {
		prefix := testPrefix(t, url)
		return newBroker(t, url, prefix), newBroker(t, url, prefix)
	})
}
