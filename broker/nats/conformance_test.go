package nats_test

import (
	"testing"

	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/broker/brokertest"
)

// TestConformance runs the shared broker suite against the shared NATS,
// each subtest under a prefix of its own.
func TestConformance(t *testing.T) {
	url := sharedURL()
	needNATS(t, url)
	brokertest.Run(t, func(t *testing.T) broker.Broker {
		return newBroker(t, url, testPrefix(t, url))
	})
}

// TestCluster runs the two-node suite: two brokers under one prefix on the
// shared NATS are two nodes of one cluster.
func TestCluster(t *testing.T) {
	url := sharedURL()
	needNATS(t, url)
	brokertest.RunCluster(t, func(t *testing.T) (broker.Broker, broker.Broker) {
		prefix := testPrefix(t, url)
		return newBroker(t, url, prefix), newBroker(t, url, prefix)
	})
}
