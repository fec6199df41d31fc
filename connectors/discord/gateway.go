package discord

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors"
)

// Run holds the gateway connection and hands each customer message to r until ctx is done;
// then it closes the session, waits for the messages in hand and returns nil. It returns an
// error when the gateway cannot be opened or Run is already running. discordgo reconnects
// (and resumes) by itself after a dropped connection.
//
// A customer message is a MESSAGE_CREATE in a direct message from a user who is neither a
// bot nor this bot, or a click on a quick-reply button (see Render) in a direct message: its
// text is the button's payload and its provider id the interaction's, and the click is
// acknowledged at once with a deferred update, as Discord wants an answer within 3 s.
//
// Discord does not redeliver gateway events, so the connector cannot leave a retry to the
// provider as the webhook connectors do: when r fails with anything but EINVALID the message
// is handed over again in-process, up to 5 times with exponential backoff (the store drops a
// repeat by provider id). Then, after a minute, the connector fetches the message again over
// REST with whatever its author sent after it, and hands them over again (at most 3 such
// rounds before it logs the message as lost at error level). A click cannot be fetched again:
// it is lost after its 5 attempts. A shutdown during the backoff also drops the message
// (logged). With WithBackfill, every READY (start, or a reconnect that is not a resume) also
// fetches the DMs the source's users sent while no gateway was connected. Messages of one
// customer reach r in the order Discord sent them, one at a time (a fetched message may
// follow a newer one the gateway delivered meanwhile); different customers are handled
// concurrently.
func (k *Connector) Run(ctx context.Context, r connectors.Receiver) error {
	if !k.running.CompareAndSwap(false, true) {
		return errors.New("discord: gateway already running")
	}
	defer k.running.Store(false)

	// Messages in hand are finished after a shutdown: the engine commits what it received.
	work := context.WithoutCancel(ctx)
	q := &queue{pending: map[string][]func(){}}
	var self atomic.Pointer[string]
	b := &backfill{k: k, wake: make(chan struct{}, 1), missed: map[string]target{},
		self: func() string {
			if p := self.Load(); p != nil {
				return *p
			}
			return ""
		}}
	b.push = func(in tandem.Inbound, channelID string, round int) {
		q.push(in.ExternalID, func() {
			if k.deliver(work, ctx, r, in) {
				b.gaveUp(in, channelID, round)
			}
		})
	}
	s := k.session
	removers := []func(){
		s.AddHandler(func(_ *discordgo.Session, e *discordgo.Ready) {
			if e.User != nil {
				self.Store(&e.User.ID)
			}
			b.onReady()
		}),
		s.AddHandler(func(_ *discordgo.Session, e *discordgo.MessageCreate) {
			if in, ok := k.messageInbound(e.Message, b.self()); ok {
				if e.ChannelID != "" {
					k.dms.Add(in.ExternalID, e.ChannelID) // spares Send and the backfill opening it
				}
				b.push(in, e.ChannelID, 0)
			}
		}),
		s.AddHandler(func(_ *discordgo.Session, e *discordgo.InteractionCreate) {
			in, ok := k.interactionInbound(e.Interaction)
			if !ok {
				return
			}
			q.goAck(func() { k.ack(work, e.Interaction) })
			b.push(in, "", 0) // a click is not in the channel's history: it cannot be fetched again
		}),
	}
	defer func() {
		for _, remove := range removers {
			remove()
		}
	}()

	fillCtx, stopFill := context.WithCancel(ctx)
	defer stopFill()
	q.goAck(func() { b.run(fillCtx) })
	if err := s.Open(); err != nil {
		return fmt.Errorf("discord: open gateway: %w", err)
	}
	k.log.Info("discord gateway connected", "bot_id", k.cfg.BotID)
	<-ctx.Done()
	if err := s.Close(); err != nil {
		k.log.Warn("discord gateway close", "bot_id", k.cfg.BotID, "error", err)
	}
	q.wait()
	return nil
}

// messageInbound turns a gateway message into the engine's Inbound, or reports that it is
// not a customer's direct message.
func (k *Connector) messageInbound(m *discordgo.Message, self string) (tandem.Inbound, bool) {
	switch {
	case m == nil || m.Author == nil:
		return tandem.Inbound{}, false
	case m.GuildID != "": // a server channel, not a DM
		return tandem.Inbound{}, false
	case m.Author.Bot || m.Author.System || m.Author.ID == self || m.WebhookID != "":
		return tandem.Inbound{}, false
	case m.Type != discordgo.MessageTypeDefault && m.Type != discordgo.MessageTypeReply:
		return tandem.Inbound{}, false // pins, calls and other system messages
	}
	return tandem.Inbound{BotID: k.cfg.BotID, Channel: tandem.ChannelDiscord, ExternalID: m.Author.ID,
		Text: m.Content, ProviderID: m.ID, ReceivedAt: k.now()}, true
}

// interactionInbound turns a quick-reply click in a DM into the engine's Inbound.
func (k *Connector) interactionInbound(i *discordgo.Interaction) (tandem.Inbound, bool) {
	if i == nil || i.Type != discordgo.InteractionMessageComponent || i.GuildID != "" || i.User == nil || i.User.Bot {
		return tandem.Inbound{}, false
	}
	data, ok := i.Data.(discordgo.MessageComponentInteractionData)
	if !ok || data.ComponentType != discordgo.ButtonComponent {
		return tandem.Inbound{}, false
	}
	payload, ok := quickReplyPayload(data.CustomID)
	if !ok {
		return tandem.Inbound{}, false
	}
	return tandem.Inbound{BotID: k.cfg.BotID, Channel: tandem.ChannelDiscord, ExternalID: i.User.ID,
		Text: payload, ProviderID: i.ID, ReceivedAt: k.now()}, true
}

// ack answers a button click with a deferred update: the click succeeded and the message
// with the buttons stays as it is.
func (k *Connector) ack(ctx context.Context, i *discordgo.Interaction) {
	err := k.session.InteractionRespond(i, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseDeferredMessageUpdate}, discordgo.WithContext(ctx))
	if err != nil {
		// The customer sees "This interaction failed"; the payload still reaches the engine.
		k.log.Warn("discord interaction ack", "bot_id", k.cfg.BotID, "interaction_id", i.ID, "error", err)
	}
}

// deliver hands in to r, again with backoff while r fails with a retryable error, until
// k.attempts attempts or stop is done. It reports whether it gave up after k.attempts.
func (k *Connector) deliver(ctx, stop context.Context, r connectors.Receiver, in tandem.Inbound) (gaveUp bool) {
	attrs := []any{"bot_id", in.BotID, "provider_id", in.ProviderID}
	wait := k.backoff
	for attempt := 1; ; attempt++ {
		_, err := r.HandleMessage(ctx, in)
		switch {
		case err == nil:
			return false
		case tandem.ErrorCode(err) == tandem.EINVALID:
			k.log.Warn("discord message refused", append(attrs, "error", err)...)
			return false
		case attempt >= k.attempts:
			k.log.Warn("discord message failed, giving up for now", append(attrs, "attempts", attempt, "error", err)...)
			return true
		}
		k.log.Warn("discord message failed, retrying", append(attrs, "attempt", attempt, "error", err)...)
		t := time.NewTimer(wait)
		select {
		case <-stop.Done():
			t.Stop()
			k.log.Error("discord message lost: shut down while retrying",
				append(attrs, "attempts", attempt, "error", err)...)
			return
		case <-t.C:
		}
		wait *= 2
	}
}

// queue runs jobs one at a time per key, in the order pushed, and different keys
// concurrently. push never blocks, so the gateway's read loop does not wait for the engine.
type queue struct {
	mu      sync.Mutex
	pending map[string][]func() // a key is present while its goroutine runs
	wg      sync.WaitGroup
}

func (q *queue) push(key string, job func()) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if jobs, busy := q.pending[key]; busy {
		q.pending[key] = append(jobs, job)
		return
	}
	q.pending[key] = nil
	q.wg.Add(1)
	go q.drain(key, job)
}

func (q *queue) drain(key string, job func()) {
	defer q.wg.Done()
	for job != nil {
		job()
		q.mu.Lock()
		if jobs := q.pending[key]; len(jobs) > 0 {
			job, q.pending[key] = jobs[0], jobs[1:]
		} else {
			delete(q.pending, key)
			job = nil
		}
		q.mu.Unlock()
	}
}

// goAck runs job now, outside any key's order (an ack, the backfill loop), and wait waits for it too.
func (q *queue) goAck(job func()) {
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		job()
	}()
}

func (q *queue) wait() { q.wg.Wait() }
