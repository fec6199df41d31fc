package bots_test

import (
	"context"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/retrieval"
)

// BenchmarkHandleMessage measures one in-process turn on SQLite with the offline demo
// models: a customer asking a question answered from an intent's response, a knowledge
// question (from the answer cache, and searched every time), and a fallback. Each
// iteration is a new customer message.
func BenchmarkHandleMessage(b *testing.B) {
	cases := []struct {
		name string
		text string
		opts []retrieval.Option
	}{
		{"Intent", "hi", nil},
		{"Knowledge", "how long does shipping take?", nil},
		{"KnowledgeUncached", "how long does shipping take?", []retrieval.Option{retrieval.WithAnswerCache(0, 0)}},
		{"Fallback", "xyzzy plugh", nil},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			f := setup(b, c.opts...)
			ctx := context.Background()
			lat := make([]time.Duration, 0, 1024)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				// 64 customers, so conversations grow like real ones instead of one huge one.
				t0 := time.Now()
				_, err := f.engine.HandleMessage(ctx, tandem.Inbound{BotID: "demo", Channel: tandem.ChannelREST,
					ExternalID: "c" + strconv.Itoa(i%64), Text: c.text})
				lat = append(lat, time.Since(t0))
				if err != nil {
					b.Fatal(err)
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// BenchmarkHandleMessageParallel measures turns per second with concurrent customers (the
// server's situation): each goroutine is a different customer.
func BenchmarkHandleMessageParallel(b *testing.B) {
	f := setup(b)
	ctx := context.Background()
	var n atomic.Int64
	b.SetParallelism(16) // many concurrent customers per CPU, as behind an HTTP server
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		id := "p" + strconv.FormatInt(n.Add(1), 10)
		for pb.Next() {
			if _, err := f.engine.HandleMessage(ctx, tandem.Inbound{BotID: "demo", Channel: tandem.ChannelREST,
				ExternalID: id, Text: "hi"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "turns/s")
}
