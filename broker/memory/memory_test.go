package memory_test

import (
	"testing"

	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/broker/brokertest"
	"github.com/heraldrt/herald/broker/memory"
)

func TestConformance(t *testing.T) {
	brokertest.Run(t, func(*testing.T) broker.Broker { return memory.New() })
}
