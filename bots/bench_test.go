package bots_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/tandemhq/tandem"
)

// BenchmarkHandleMessage measures one in-process turn on SQLite with the offline demo
// models: a customer asking a question answered from an intent's response, a knowledge
// question, and an order-status flow step. Each iteration is a new customer message.
func BenchmarkHandleMessage(b *testing.B) {
	cases := []struct {
		name string
		text string
	}{
		{"Intent", "hi"},
		{"Knowledge", "how long does shipping take?"},
		{"Fallback", "xyzzy plugh"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			f := setup(b)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				// 64 customers, so conversations grow like real ones instead of one huge one.
				_, err := f.engine.HandleMessage(ctx, tandem.Inbound{BotID: "demo", Channel: tandem.ChannelREST,
					ExternalID: "c" + strconv.Itoa(i%64), Text: c.text})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
