package discord

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tandemhq/tandem"
)

// Recent is a Discord user who wrote to the bot lately, as the store knows them.
type Recent struct {
	// UserID is the customer's Discord user id (their identity's external id).
	UserID string
	// After is the id of the newest stored message of theirs (a snowflake); only messages
	// after it are fetched. A Recent without it is skipped.
	After string
}

// BackfillSource names the direct messages to look over after the gateway (re)connects.
// The connector cannot see the store; the application implements this over it.
type BackfillSource interface {
	// RecentDMs returns the Discord users who wrote to bot botID lately, each with the
	// newest message of theirs that is stored. Only the first maxBackfillUsers are used.
	RecentDMs(ctx context.Context, botID string) ([]Recent, error)
}

// WithBackfill makes Run fetch, over REST, the direct messages src's users sent while no
// gateway was connected: on every READY (the start and each reconnect that is not a
// resume). Without it only messages whose delivery gave up are fetched again.
func WithBackfill(src BackfillSource) Option {
	return func(k *Connector) { k.backfill = src }
}

const (
	// backfillLimit is the most messages fetched per DM channel in one backfill: one page,
	// Discord's maximum.
	backfillLimit = 100
	// maxBackfillUsers bounds the DM channels looked over per backfill.
	maxBackfillUsers = 100
	// maxRefills is how often a message whose delivery gave up is fetched and handed over
	// again before it is lost.
	maxRefills = 3
)

// backfill fetches the DMs the gateway did not deliver and queues them like gateway
// messages. One goroutine (run) does the fetching, woken by READY or by a given-up message.
type backfill struct {
	k      *Connector
	push   func(in tandem.Inbound, channelID string, round int)
	self   func() string
	wake   chan struct{} // buffered 1: wakes run, coalesced
	ready  atomic.Bool   // a READY came: ask the source
	mu     sync.Mutex
	missed map[string]target // user id → messages to fetch again
}

// target is one DM channel to fetch from.
type target struct {
	channelID string // empty: opened from the user id
	after     string
	round     int // how often its messages were fetched again after a give-up
}

// onReady asks for a backfill from the source.
func (b *backfill) onReady() {
	if b.k.backfill == nil {
		return
	}
	b.ready.Store(true)
	b.poke()
}

// gaveUp schedules in, whose delivery gave up (round: how often it was fetched again), to be
// fetched again after k.refillDelay, with everything its author sent after it.
func (b *backfill) gaveUp(in tandem.Inbound, channelID string, round int) {
	after, ok := precede(in.ProviderID)
	if channelID == "" || !ok || round >= maxRefills {
		b.k.log.Error("discord message lost: the engine failed and Discord does not redeliver",
			"bot_id", in.BotID, "provider_id", in.ProviderID, "refills", round)
		return
	}
	b.k.log.Warn("discord message failed, fetching it again later", "bot_id", in.BotID,
		"provider_id", in.ProviderID, "after", b.k.refillDelay, "refill", round+1)
	b.mu.Lock()
	t := merge(b.missed[in.ExternalID], target{channelID: channelID, after: after, round: round + 1})
	b.missed[in.ExternalID] = t
	b.mu.Unlock()
	time.AfterFunc(b.k.refillDelay, b.poke)
}

func (b *backfill) poke() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// run fetches on every wake until ctx is done.
func (b *backfill) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.wake:
		}
		b.once(ctx)
	}
}

// once fetches from the source's users (after a READY) and the given-up messages' channels.
func (b *backfill) once(ctx context.Context) {
	targets := map[string]target{}
	if b.ready.Swap(false) {
		recent, err := b.k.backfill.RecentDMs(ctx, b.k.cfg.BotID)
		if err != nil {
			b.k.log.Error("discord backfill: messages sent while disconnected are not fetched",
				"bot_id", b.k.cfg.BotID, "error", err)
		}
		for _, r := range recent[:min(len(recent), maxBackfillUsers)] {
			if r.UserID != "" && r.After != "" {
				targets[r.UserID] = merge(targets[r.UserID], target{after: r.After})
			}
		}
	}
	b.mu.Lock()
	for user, t := range b.missed {
		targets[user] = merge(targets[user], t)
	}
	clear(b.missed)
	b.mu.Unlock()
	for user, t := range targets {
		if ctx.Err() != nil {
			return
		}
		b.fill(ctx, user, t)
	}
}

// fill queues user's customer messages after t.after, oldest first.
func (b *backfill) fill(ctx context.Context, user string, t target) {
	attrs := []any{"bot_id", b.k.cfg.BotID, "user_id", user, "after", t.after}
	if t.channelID == "" {
		id, _, err := b.k.dmChannel(ctx, user)
		if err != nil {
			b.k.log.Warn("discord backfill: open dm channel", append(attrs, "error", err)...)
			return
		}
		t.channelID = id
	}
	var msgs []*discordgo.Message
	var err error
	for try := 0; try < 2; try++ {
		msgs, err = b.k.session.ChannelMessages(t.channelID, backfillLimit, "", t.after, "", discordgo.WithContext(ctx))
		var rl *discordgo.RateLimitError
		if !errors.As(err, &rl) || rl.RateLimit == nil || try > 0 {
			break
		}
		// The connector turned discordgo's own 429 retries off (see New); wait once here.
		select {
		case <-ctx.Done():
			return
		case <-time.After(max(rl.RetryAfter, defaultRetryLater)):
		}
	}
	if err != nil {
		b.k.log.Warn("discord backfill: fetch messages", append(attrs, "error", err)...)
		return
	}
	if len(msgs) == backfillLimit {
		b.k.log.Warn("discord backfill: a full page; later messages are not fetched", attrs...)
	}
	slices.SortFunc(msgs, func(x, y *discordgo.Message) int { return compareIDs(x.ID, y.ID) })
	n := 0
	for _, m := range msgs {
		if in, ok := b.k.messageInbound(m, b.self()); ok && in.ExternalID == user {
			b.push(in, t.channelID, t.round)
			n++
		}
	}
	if n > 0 {
		b.k.log.Info("discord backfill: fetched messages not received over the gateway", append(attrs, "messages", n)...)
	}
}

// merge combines two targets for one user: the earlier after, the known channel, the
// higher round.
func merge(a, b target) target {
	if a.after == "" || (b.after != "" && compareIDs(b.after, a.after) < 0) {
		a.after = b.after
	}
	if a.channelID == "" {
		a.channelID = b.channelID
	}
	a.round = max(a.round, b.round)
	return a
}

// compareIDs orders Discord snowflakes (decimal, without leading zeros) numerically.
func compareIDs(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// precede returns the snowflake just before id, so "after" it includes id itself.
func precede(id string) (string, bool) {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil || n == 0 {
		return "", false
	}
	return strconv.FormatUint(n-1, 10), true
}
