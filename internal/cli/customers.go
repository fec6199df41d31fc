package cli

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// runCustomers looks up customers and erases one on request (the right to erasure).
func runCustomers(ctx context.Context, env Env, args []string) error {
	return dispatch(ctx, env, "tandem customers", map[string]command{
		"show":  {"show a customer's identities and how much data of theirs is stored (CUSTOMER_ID or --identity CHANNEL:EXTERNAL_ID)", runCustomersShow},
		"erase": {"delete a customer with all their conversations, messages, deliveries, tickets and ratings, audited (CUSTOMER_ID or --identity CHANNEL:EXTERNAL_ID)", runCustomersErase},
	}, args)
}

// customerFlags are the flags and the argument that name a customer.
type customerFlags struct {
	identity string
}

func addCustomerFlags(fs *flag.FlagSet) *customerFlags {
	cf := &customerFlags{}
	fs.StringVar(&cf.identity, "identity", "", "the customer with this identity, as CHANNEL:EXTERNAL_ID (sms:+15550100, webchat:visitor-1, rest:user-7)")
	return cf
}

// parseCustomerArgs parses flags placed before or after the one CUSTOMER_ID argument and
// returns that argument ("" when none).
func parseCustomerArgs(fs *flag.FlagSet, args []string) (string, error) {
	if err := parseFlags(fs, args); err != nil {
		return "", err
	}
	if fs.NArg() == 0 {
		return "", nil
	}
	id := fs.Arg(0)
	if err := parseFlags(fs, fs.Args()[1:]); err != nil {
		return "", err
	}
	if fs.NArg() > 0 {
		return "", fmt.Errorf("%w: one customer at a time (extra %q)", errUsage, fs.Arg(0))
	}
	return id, nil
}

// customerID returns the id the argument or --identity names.
func (cf *customerFlags) customerID(ctx context.Context, store storage.Store, arg string) (string, error) {
	switch {
	case (arg == "") == (cf.identity == ""):
		return "", fmt.Errorf("%w: give a CUSTOMER_ID or --identity CHANNEL:EXTERNAL_ID", errUsage)
	case arg != "":
		return arg, nil
	}
	ch, ext, ok := strings.Cut(cf.identity, ":")
	if !ok || ch == "" || ext == "" {
		return "", fmt.Errorf("%w: --identity %q is not CHANNEL:EXTERNAL_ID", errUsage, cf.identity)
	}
	i, err := store.FindIdentity(ctx, tandem.Channel(ch), ext)
	if err != nil {
		return "", err
	}
	return i.CustomerID, nil
}

func runCustomersShow(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tandem customers show")
	sf := addStoreFlags(env, fs)
	cf := addCustomerFlags(fs)
	arg, err := parseCustomerArgs(fs, args)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, *sf)
	if err != nil {
		return err
	}
	defer store.Close()
	id, err := cf.customerID(ctx, store, arg)
	if err != nil {
		return err
	}
	c, err := store.FindCustomerByID(ctx, id)
	if err != nil {
		return err
	}
	ids, err := store.ListIdentities(ctx, id)
	if err != nil {
		return err
	}
	e, err := store.CountCustomerData(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "customer %s (created %s)\n", c.ID, c.CreatedAt.Format("2006-01-02 15:04 MST"))
	if c.DisplayName != "" {
		fmt.Fprintf(env.Stdout, "name: %s\n", c.DisplayName)
	}
	for _, i := range ids {
		verified := ""
		if i.Verified {
			verified = " (verified)"
		}
		fmt.Fprintf(env.Stdout, "identity: %s:%s%s\n", i.Channel, i.ExternalID, verified)
	}
	fmt.Fprintf(env.Stdout, "stored: %s\n", counts(e))
	return nil
}

func runCustomersErase(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tandem customers erase")
	sf := addStoreFlags(env, fs)
	cf := addCustomerFlags(fs)
	yes := fs.Bool("yes", false, "erase without asking")
	actor := fs.String("actor", "cli", "who asked, for the audit log (e.g. agent:<id> or a ticket number; no personal data)")
	arg, err := parseCustomerArgs(fs, args)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, *sf)
	if err != nil {
		return err
	}
	defer store.Close()
	id, err := cf.customerID(ctx, store, arg)
	if err != nil {
		return err
	}
	if !*yes {
		e, err := store.CountCustomerData(ctx, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "customer %s: %s\n", id, counts(e))
		if !confirm(env.Stdin, env.Stdout, id) {
			return fmt.Errorf("not confirmed: customer %s was not erased", id)
		}
	}
	e, err := store.EraseCustomer(ctx, id, *actor)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "erased customer %s: %s\n", id, counts(e))
	return nil
}

// confirm asks for the customer id to be typed back; no input (or none available) is a no.
func confirm(in io.Reader, out io.Writer, id string) bool {
	if in == nil {
		return false
	}
	fmt.Fprintf(out, "This cannot be undone. Type the customer id to erase it (or run with --yes): ")
	line, _ := bufio.NewReader(in).ReadString('\n')
	return strings.TrimSpace(line) == id
}

// counts says how many rows of each kind an erasure covers.
func counts(e storage.Erasure) string {
	return fmt.Sprintf("%d identities, %d conversations, %d messages, %d deliveries, %d tickets, %d notes, %d CSAT responses, %d answer votes",
		e.Identities, e.Conversations, e.Messages, e.Deliveries, e.Tickets, e.Notes, e.CSATResponses, e.AnswerFeedback)
}
