package discord

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
)

// sourceFunc is a BackfillSource.
type sourceFunc func(ctx context.Context, botID string) ([]Recent, error)

func (f sourceFunc) RecentDMs(ctx context.Context, botID string) ([]Recent, error) {
	return f(ctx, botID)
}

// dmFrom is a MESSAGE_CREATE in author's own DM channel, dm-<author>, with a snowflake id.
func dmFrom(id, author, content string) event {
	return edit(dm(id, author, content), func(m map[string]any) { m["channel_id"] = "dm-" + author })
}

func TestBackfill(t *testing.T) {
	t.Parallel()
	const ann, bob = "80351110224678912", "80351110224678913"
	down := errors.New("database is down")
	failing := func(pid string, times int) func(tandem.Inbound, int) error {
		return func(in tandem.Inbound, before int) error {
			if in.ProviderID == pid && (times < 0 || before < times) {
				return down
			}
			return nil
		}
	}

	tests := []struct {
		name    string
		source  []Recent // nil: no WithBackfill
		history []event  // in the channels' REST history, never sent on the gateway
		live    []event  // in the history and sent on the gateway
		fail    func(tandem.Inbound, int) error
		want    []string // provider ids reaching the engine, in order (all of ann's)
		fetches []string // history requests wanted, "channel after"
		lost    bool     // wait for the message-lost log before stopping
	}{
		{
			name:   "OKMissedWhileDisconnected",
			source: []Recent{{UserID: ann, After: "100"}, {UserID: "", After: "1"}, {UserID: bob}},
			history: []event{dmFrom("100", ann, "stored before"), dmFrom("101", ann, "sent while down"),
				dmFrom("102", selfID, "our own reply"), dmFrom("103", ann, "and again"),
				edit(dmFrom("104", ann, ""), func(m map[string]any) { m["type"] = 6 }),
				dmFrom("105", bob, "bob has nothing stored")},
			want:    []string{"101", "103"},
			fetches: []string{"dm-" + ann + " 100"},
		},
		{
			name:    "OKNothingNew",
			source:  []Recent{{UserID: ann, After: "101"}},
			history: []event{dmFrom("100", ann, "stored"), dmFrom("101", ann, "stored too")},
			fetches: []string{"dm-" + ann + " 101"},
		},
		{
			name:    "OKGivenUpFetchedAgain",
			live:    []event{dmFrom("201", ann, "hello"), dmFrom("202", ann, "next")},
			fail:    failing("201", 3), // 3 attempts: given up once, stored when fetched again
			want:    []string{"201", "201", "201", "202", "201", "202"},
			fetches: []string{"dm-" + ann + " 200"},
		},
		{
			name:    "ErrLostAfterRefills",
			source:  []Recent{}, // a READY with nobody to look over
			live:    []event{dmFrom("201", ann, "hello")},
			fail:    failing("201", -1),
			want:    slices.Repeat([]string{"201"}, 3*(1+maxRefills)),
			fetches: slices.Repeat([]string{"dm-" + ann + " 200"}, maxRefills),
			lost:    true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newFakeGateway(t)
			k := newTestConnector(t, g.srv)
			k.attempts, k.refillDelay = 3, time.Millisecond
			lost := make(chan string, 4)
			k.log = slog.New(lostHandler{k.log.Handler(), lost})
			if tc.source != nil {
				k.backfill = sourceFunc(func(_ context.Context, botID string) ([]Recent, error) {
					if botID != "demo" {
						t.Errorf("RecentDMs(%q), want the connector's bot", botID)
					}
					return tc.source, nil
				})
			}
			for _, e := range tc.history {
				g.post(e)
			}
			r := newReceiver(tc.fail)
			stop := runGateway(t, g, k, r)
			for _, e := range tc.live {
				g.events <- g.post(e)
			}
			var fetches []string
			timeout := time.After(deadline)
			for len(fetches) < len(tc.fetches) {
				select {
				case f := <-g.fetches:
					fetches = append(fetches, f)
				case <-timeout:
					t.Fatalf("history requests %v, want %v", fetches, tc.fetches)
				}
			}
			if tc.lost {
				select {
				case <-lost:
				case <-time.After(deadline):
					t.Fatal("the message was never logged as lost")
				}
			}
			if n := len(tc.want); n > 0 {
				last := tc.want[n-1]
				r.waitFor(t, last, countOf(tc.want, last))
			}
			if err := stop(); err != nil {
				t.Errorf("Run = %v, want nil after a shutdown", err)
			}
			for len(g.fetches) > 0 {
				fetches = append(fetches, <-g.fetches)
			}
			if !slices.Equal(fetches, tc.fetches) {
				t.Errorf("history requests %v, want %v", fetches, tc.fetches)
			}
			var got []string
			for _, in := range r.received() {
				got = append(got, in.ProviderID)
				if in.ExternalID != ann || in.Channel != tandem.ChannelDiscord || in.BotID != "demo" {
					t.Errorf("inbound = %+v, want ann's on discord for bot demo", in)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("the engine got %v, want %v", got, tc.want)
			}
		})
	}

	t.Run("ErrSource", func(t *testing.T) {
		t.Parallel()
		g := newFakeGateway(t)
		k := newTestConnector(t, g.srv)
		called := make(chan struct{})
		k.backfill = sourceFunc(func(context.Context, string) ([]Recent, error) {
			close(called)
			return nil, down
		})
		r := newReceiver(nil)
		stop := runGateway(t, g, k, r)
		select {
		case <-called:
		case <-time.After(deadline):
			t.Fatal("the source was never asked after READY")
		}
		g.events <- dmFrom("301", ann, "still received")
		r.waitFor(t, "301", 1)
		if err := stop(); err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
		if n := len(g.fetches); n != 0 {
			t.Errorf("%d history requests, want none when the source fails", n)
		}
	})
}

// lostHandler also reports the messages logged as lost.
type lostHandler struct {
	slog.Handler
	lost chan<- string
}

func (h lostHandler) Handle(ctx context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, "discord message lost") {
		h.lost <- r.Message
	}
	return h.Handler.Handle(ctx, r)
}

func countOf(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

func TestSnowflakes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ a, b string }{{"9", "10"}, {"100", "101"}, {"80351110224678912", "80351110224678913"}} {
		if compareIDs(tc.a, tc.b) >= 0 || compareIDs(tc.b, tc.a) <= 0 || compareIDs(tc.a, tc.a) != 0 {
			t.Errorf("compareIDs does not order %s before %s", tc.a, tc.b)
		}
	}
	for id, want := range map[string]string{"201": "200", "10": "9", "0": "", "m-1": "", "": ""} {
		got, ok := precede(id)
		if got != want || ok != (want != "") {
			t.Errorf("precede(%q) = %q, %v, want %q", id, got, ok, want)
		}
	}
	got := merge(target{after: "105", round: 1}, target{channelID: "dm-1", after: "103"})
	if want := (target{channelID: "dm-1", after: "103", round: 1}); got != want {
		t.Errorf("merge = %+v, want %+v", got, want)
	}
}
