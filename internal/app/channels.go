package app

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/connectors"
	"github.com/tandemhq/tandem/connectors/discord"
	"github.com/tandemhq/tandem/connectors/slack"
	"github.com/tandemhq/tandem/connectors/twilio"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/jobs"
	"github.com/tandemhq/tandem/web"
)

// channelKey names one bot's connector on one channel.
type channelKey struct {
	bot string
	ch  tandem.Channel
}

// webhookPath is where a provider posts a bot's channel events.
func webhookPath(bot string, ch tandem.Channel) string {
	return "/webhooks/" + string(ch) + "/" + bot
}

// buildChannels makes the configured connectors.
func (a *App) buildChannels() error {
	a.channels = map[channelKey]connectors.Connector{}
	for _, k := range a.cfg.Connectors {
		if _, ok := a.registry.Get(k.Bot); !ok {
			return fmt.Errorf("connector %s/%s: no bot %q is loaded", k.Bot, k.Channel, k.Bot)
		}
		c, err := newConnector(a, k)
		if err != nil {
			return fmt.Errorf("connector %s/%s: %w", k.Bot, k.Channel, err)
		}
		a.channels[channelKey{k.Bot, tandem.Channel(k.Channel)}] = c
	}
	return nil
}

// connector is the deliverer's lookup of a bot's connector on a channel.
func (a *App) connector(bot string, ch tandem.Channel) (connectors.Connector, bool) {
	c, ok := a.channels[channelKey{bot, ch}]
	return c, ok
}

// mountWebhooks routes each webhook connector's provider callbacks to it. They are not
// behind the staff guard: each connector checks its provider's signature.
func (a *App) mountWebhooks() {
	for k, c := range a.channels {
		if h := c.Handler(a.observed()); h != nil {
			a.web.Mount("POST "+webhookPath(k.bot, k.ch), h)
		}
	}
}

// runBackground runs the delivery, escalation and retention workers, the gateway connectors and the
// desks' workers (cards, relayed messages and card updates go to Slack from there) until
// ctx is done, and returns a wait for them to stop.
func (a *App) runBackground(ctx context.Context) (wait func()) {
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := a.deliverer.Run(ctx); err != nil {
			a.logger.Error("delivery worker stopped", "error", err)
		}
	})
	wg.Go(func() {
		if err := a.escalations.Run(ctx); err != nil {
			a.logger.Error("escalation worker stopped", "error", err)
		}
	})
	wg.Go(func() {
		if err := a.retention.Run(ctx); err != nil {
			a.logger.Error("retention worker stopped", "error", err)
		}
	})
	if d := a.desks.slack; d != nil {
		wg.Go(func() {
			if err := d.Run(ctx); err != nil {
				a.logger.Error("slack desk stopped", "error", err)
			}
		})
	}
	for k, c := range a.channels {
		g, ok := c.(connectors.Gateway)
		if !ok {
			continue
		}
		wg.Go(func() {
			if err := g.Run(ctx, a.observed()); err != nil && ctx.Err() == nil {
				a.logger.Error("gateway connector stopped", "bot", k.bot, "channel", k.ch, "error", err)
			}
		})
	}
	return wg.Wait
}

// newDeliverer builds the delivery worker from the configuration, its outcomes counted in
// reg as tandem_deliveries_total{channel,outcome} and tandem_delivery_send_seconds{channel}.
func (a *App) newDeliverer(reg prometheus.Registerer) (*jobs.Deliverer, error) {
	outcomes := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tandem_deliveries_total",
		Help: "Delivery attempts of messages to customers' channels, by outcome (sent, retry, snoozed, failed, held)."},
		[]string{"channel", "outcome"})
	sends := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tandem_delivery_send_seconds",
		Help: "Time providers took to answer a send.", Buckets: prometheus.DefBuckets}, []string{"channel"})
	reg.MustRegister(outcomes, sends)
	return jobs.NewDeliverer(a.store, a.connector, jobs.DeliveryConfig{
		Poll: a.cfg.Delivery.Poll, MaxAttempts: a.cfg.Delivery.MaxAttempts, Logger: a.logger,
		SendTimeout: a.cfg.Delivery.SendTimeout, Lease: a.cfg.Delivery.Lease,
		// The engine is built after the worker; the worker calls this only once running.
		HoldFunc: func(ctx context.Context, dl tandem.Delivery) (bool, error) {
			return a.engine.HoldOutsideWindow(ctx, dl)
		},
		Observe: func(ch tandem.Channel, outcome string, took time.Duration) {
			outcomes.WithLabelValues(string(ch), outcome).Inc()
			if took > 0 {
				sends.WithLabelValues(string(ch)).Observe(took.Seconds())
			}
		}})
}

// newConnector builds one configured connector.
func newConnector(a *App, k config.Connector) (connectors.Connector, error) {
	switch ch := tandem.Channel(k.Channel); ch {
	case tandem.ChannelSMS, tandem.ChannelWhatsApp:
		opts := []twilio.Option{twilio.WithLogger(a.logger)}
		if k.APIURL != "" {
			opts = append(opts, twilio.WithBaseURL(k.APIURL))
		}
		cfg := twilio.Config{BotID: k.Bot, Channel: ch, AccountSID: k.AccountSID, AuthToken: k.AuthToken,
			From: k.From, MessagingServiceSID: k.MessagingServiceSID,
			// Twilio signs the URL it was given, so it must be the public one.
			WebhookURL: strings.TrimRight(a.cfg.BaseURL, "/") + webhookPath(k.Bot, ch)}
		// The bot's current setting, so a reload applies to the next reply.
		cfg.MaxSegmentsFunc = func() int {
			if bot, ok := a.registry.Get(k.Bot); ok {
				return bot.Def.Channels[k.Channel].MaxSegments
			}
			return 0
		}
		return twilio.New(cfg, opts...)
	case tandem.ChannelSlack:
		opts := []slack.Option{slack.WithLogger(a.logger)}
		if k.APIURL != "" {
			opts = append(opts, slack.WithAPIURL(k.APIURL))
		}
		return slack.New(slack.Config{BotID: k.Bot, BotToken: k.BotToken, SigningSecret: k.SigningSecret}, opts...)
	case tandem.ChannelDiscord:
		opts := []discord.Option{discord.WithLogger(a.logger),
			discord.WithBackfill(discordFill{store: a.store, now: time.Now})}
		if k.APIURL != "" {
			opts = append(opts, discord.WithAPIURL(k.APIURL))
		}
		return discord.New(discord.Config{BotID: k.Bot, Token: k.Token}, opts...)
	}
	return nil, fmt.Errorf("channel %q has no connector in this build", k.Channel)
}

// observed is the engine as connectors see it: their turns are counted in the server's
// metrics (tandem_turns_total, tandem_csat_responses_total, ...) like the API's.
func (a *App) observed() connectors.Receiver { return observedEngine{a.engine, a.web} }

type observedEngine struct {
	engine *bots.Engine
	web    *web.Server
}

func (o observedEngine) HandleMessage(ctx context.Context, in tandem.Inbound) (*tandem.Turn, error) {
	start := time.Now()
	turn, err := o.engine.HandleMessage(ctx, in)
	if err == nil {
		o.web.ObserveTurn(in.BotID, turn, time.Since(start))
	}
	return turn, err
}
