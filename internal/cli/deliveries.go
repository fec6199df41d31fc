package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// runDeliveries shows and retries messages on their way to customers' channels (the
// outbox): what an operator looks at when customers say a reply never arrived.
func runDeliveries(ctx context.Context, env Env, args []string) error {
	return dispatch(ctx, env, "tandem deliveries", map[string]command{
		"list":  {"list deliveries: pending, sent or failed, with the last error", runDeliveriesList},
		"retry": {"send failed deliveries again (message ids)", runDeliveriesRetry},
	}, args)
}

func runDeliveriesList(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tandem deliveries list")
	sf := addStoreFlags(env, fs)
	status := fs.String("status", "failed", "pending, sent, failed or held (waiting for the customer to write; see README Channels); empty for all")
	bot := fs.String("bot", "", "only this bot's")
	limit := fs.Int("limit", 100, "at most this many, oldest first")
	format := fs.String("format", "text", "output format: text or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch tandem.DeliveryStatus(*status) {
	case "", tandem.DeliveryPending, tandem.DeliverySent, tandem.DeliveryFailed, tandem.DeliveryHeld:
	default:
		return fmt.Errorf("%w: --status %q is not pending, sent, failed or held", errUsage, *status)
	}
	store, err := openStore(ctx, *sf)
	if err != nil {
		return err
	}
	defer store.Close()
	ds, err := store.ListDeliveries(ctx, storage.DeliveryFilter{Status: tandem.DeliveryStatus(*status), BotID: *bot, Limit: *limit})
	if err != nil {
		return err
	}
	if *format == "json" {
		return writeJSON(env.Stdout, ds)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MESSAGE\tBOT\tCHANNEL\tTO\tSTATUS\tATTEMPTS\tNEXT\tLAST ERROR")
	for _, d := range ds {
		next := "-"
		if d.Status == tandem.DeliveryPending {
			next = d.NextAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", d.MessageID, d.BotID, d.Channel, d.To, d.Status, d.Attempts, next, d.LastError)
	}
	return tw.Flush()
}

// runDeliveriesRetry makes failed (or held) deliveries due now with their attempts reset; a
// running server's worker sends them at its next poll.
func runDeliveriesRetry(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tandem deliveries retry")
	sf := addStoreFlags(env, fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: tandem deliveries retry needs message ids", errUsage)
	}
	store, err := openStore(ctx, *sf)
	if err != nil {
		return err
	}
	defer store.Close()
	for _, id := range fs.Args() {
		d, err := store.FindDelivery(ctx, id)
		if err != nil {
			return err
		}
		if d.Status != tandem.DeliveryFailed && d.Status != tandem.DeliveryHeld {
			return tandem.Errorf(tandem.ECONFLICT, "delivery of %s is %s, not failed or held", id, d.Status)
		}
		pending, zero, now := tandem.DeliveryPending, 0, time.Now()
		if _, err := store.UpdateDelivery(ctx, id, storage.DeliveryUpdate{Status: &pending, Attempts: &zero, NextAt: &now}); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s: queued again for %s on %s\n", id, d.To, d.Channel)
	}
	return nil
}
