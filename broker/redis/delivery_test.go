package redis_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/broker/brokertest"
	"github.com/heraldrt/herald/broker/redis"
)

// TestDelivery runs the gap-filling suite against the shared Redis: a
// lost pub/sub message is a publication made by publish.lua with its
// message sent nowhere, and history is changed in the stream's meta.
func TestDelivery(t *testing.T) {
	url := sharedURL()
	needRedis(t, url)
	brokertest.RunDelivery(t, func(t *testing.T, check time.Duration) brokertest.DeliveryNode {
		prefix := testPrefix(t, url)
		b := newBroker(t, url, prefix, func(o *redis.Options) { o.PositionCheck = check })
		meta := func(ch string) string { return prefix + ":{" + ch + "}:m" }
		return brokertest.DeliveryNode{
			Broker:          b,
			PublishSilently: func(t *testing.T, ch string) { publishSilently(t, url, prefix, ch) },
			Skip: func(t *testing.T, ch string, n int) {
				res, err := b.History(context.Background(), ch, broker.HistoryOptions{})
				if err != nil {
					t.Fatal(err)
				}
				rawDo(t, url, "HSET", meta(ch), "s", strconv.FormatUint(res.Position.Offset+uint64(n), 10))
			},
			Drop: func(t *testing.T, ch string) { rawDo(t, url, "DEL", meta(ch), prefix+":{"+ch+"}:s") },
		}
	})
}

// publishSilently makes a publication the way publish.lua does but sends
// its pub/sub message nowhere: what a lost pub/sub message looks like.
func publishSilently(t *testing.T, url, prefix, ch string) {
	t.Helper()
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{hostOf(url)}, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tag := prefix + ":{" + ch + "}"
	err = rueidis.NewLuaScript(redis.PublishScript).Exec(context.Background(), c,
		[]string{tag + ":m", tag + ":s", tag + ":m"},
		[]string{`{"data":{"silent":true}}`, "100", "60000", "unused", "0", prefix + ":nowhere"}).Error()
	if err != nil {
		t.Fatal(err)
	}
}

// rawDo runs one command on the Redis at url.
func rawDo(t *testing.T, url string, args ...string) {
	t.Helper()
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{hostOf(url)}, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Do(context.Background(), c.B().Arbitrary(args...).Build()).Error(); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
}
