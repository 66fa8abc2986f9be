// Package clientbench compares go-redis v9 and rueidis on Herald's publish
// path against a local Redis: the publish Lua script called with EVALSHA
// (one caller, and as many callers as GOMAXPROCS*8), and a publication's
// trip through the script to a pub/sub subscriber.
//
//	go test ./broker/redis/internal/clientbench -run '^$' -bench . -count 5
//
// It exists only to choose the client (docs/redis-client-choice.md).
package clientbench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
)

const addr = "127.0.0.1:6379"

// script is the shape of the broker's publish script: offset, append with
// trim, expiry, publish.
const script = `
local top = redis.call("HINCRBY", KEYS[1], "s", 1)
redis.call("XADD", KEYS[2], "MAXLEN", ARGV[2], top .. "-0", "d", ARGV[1])
redis.call("PEXPIRE", KEYS[1], ARGV[3])
redis.call("PEXPIRE", KEYS[2], ARGV[3])
redis.call("PUBLISH", ARGV[4], top .. " " .. ARGV[1])
return top`

const payload = `{"data":{"text":"hello, this is a chat message of ordinary size"},"info":{"client":"c1","user":"u1"}}`

func keys(b *testing.B) (meta, stream, ch string) {
	p := fmt.Sprintf("clientbench:%d:", rand.Int64())
	b.Cleanup(func() {
		c := goredis.NewClient(&goredis.Options{Addr: addr})
		defer c.Close()
		c.Del(context.Background(), p+"{c}:m", p+"{c}:s")
	})
	return p + "{c}:m", p + "{c}:s", p + "ch"
}

func newGoRedis(b *testing.B) *goredis.Client {
	c := goredis.NewClient(&goredis.Options{Addr: addr, PoolSize: 64})
	if err := c.Ping(context.Background()).Err(); err != nil {
		b.Skipf("redis at %s: %v", addr, err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

func newRueidis(b *testing.B) rueidis.Client {
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, DisableCache: true})
	if err != nil {
		b.Skipf("redis at %s: %v", addr, err)
	}
	b.Cleanup(c.Close)
	return c
}

func BenchmarkEvalsha(b *testing.B) {
	ctx := context.Background()
	for _, parallel := range []bool{false, true} {
		name := "serial"
		if parallel {
			name = "parallel"
		}
		b.Run("goredis/"+name, func(b *testing.B) {
			c := newGoRedis(b)
			s := goredis.NewScript(script)
			meta, stream, ch := keys(b)
			call := func() {
				if err := s.Run(ctx, c, []string{meta, stream}, payload, 100, 60000, ch).Err(); err != nil {
					b.Fatal(err)
				}
			}
			run(b, parallel, call)
		})
		b.Run("rueidis/"+name, func(b *testing.B) {
			c := newRueidis(b)
			s := rueidis.NewLuaScript(script)
			meta, stream, ch := keys(b)
			call := func() {
				if err := s.Exec(ctx, c, []string{meta, stream}, []string{payload, "100", "60000", ch}).Error(); err != nil {
					b.Fatal(err)
				}
			}
			run(b, parallel, call)
		})
	}
}

func run(b *testing.B, parallel bool, call func()) {
	b.ReportAllocs()
	if !parallel {
		for b.Loop() {
			call()
		}
		return
	}
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			call()
		}
	})
}

// BenchmarkDelivery measures publish-to-subscriber throughput: b.N
// publications through the script by 16 concurrent publishers, timed until
// the subscriber has received all of them.
func BenchmarkDelivery(b *testing.B) {
	ctx := context.Background()
	b.Run("goredis", func(b *testing.B) {
		c := newGoRedis(b)
		s := goredis.NewScript(script)
		meta, stream, ch := keys(b)
		ps := c.Subscribe(ctx, ch)
		defer ps.Close()
		if _, err := ps.Receive(ctx); err != nil {
			b.Fatal(err)
		}
		msgs := ps.Channel(goredis.WithChannelSize(1 << 16))
		deliver(b, func() error {
			return s.Run(ctx, c, []string{meta, stream}, payload, 100, 60000, ch).Err()
		}, func() { <-msgs })
	})
	b.Run("rueidis", func(b *testing.B) {
		c := newRueidis(b)
		s := rueidis.NewLuaScript(script)
		meta, stream, ch := keys(b)
		got := make(chan struct{}, 1<<16)
		d, cancel := c.Dedicate()
		defer cancel()
		d.SetPubSubHooks(rueidis.PubSubHooks{OnMessage: func(rueidis.PubSubMessage) { got <- struct{}{} }})
		if err := d.Do(ctx, d.B().Subscribe().Channel(ch).Build()).Error(); err != nil {
			b.Fatal(err)
		}
		deliver(b, func() error {
			return s.Exec(ctx, c, []string{meta, stream}, []string{payload, "100", "60000", ch}).Error()
		}, func() { <-got })
	})
}

func deliver(b *testing.B, publish func() error, receive func()) {
	b.ReportAllocs()
	const publishers = 16
	b.ResetTimer()
	start := time.Now()
	work := make(chan struct{}, b.N)
	for range b.N {
		work <- struct{}{}
	}
	close(work)
	errs := make(chan error, publishers)
	for range publishers {
		go func() {
			for range work {
				if err := publish(); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range b.N {
		receive()
	}
	for range publishers {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}
