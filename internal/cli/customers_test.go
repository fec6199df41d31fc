package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

func TestCustomersCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "data")
	st, err := openStore(ctx, storeFlags{dataDir: data, migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	// customer stores a customer with one conversation, a message and its delivery.
	customer := func(phone string) *tandem.Customer {
		t.Helper()
		cust, _, err := st.ResolveIdentity(ctx, tandem.ChannelSMS, phone)
		if err != nil {
			t.Fatal(err)
		}
		conv := &tandem.Conversation{BotID: "demo", CustomerID: cust.ID, Channel: tandem.ChannelSMS, Status: tandem.StatusOpen}
		if err := st.CreateConversation(ctx, conv); err != nil {
			t.Fatal(err)
		}
		m := &tandem.Message{ConversationID: conv.ID, Role: tandem.RoleBot, Channel: tandem.ChannelSMS, Text: "your order shipped"}
		if err := st.CreateMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		if err := st.EnqueueDeliveries(ctx, []*tandem.Delivery{{MessageID: m.ID, BotID: "demo", Channel: tandem.ChannelSMS, To: phone}}); err != nil {
			t.Fatal(err)
		}
		return cust
	}
	ada, bob := customer("+15550100"), customer("+15550101")
	st.Close()

	steps := []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		wantOut  string
	}{
		{"OK/show", []string{"customers", "show", "--data-dir", data, ada.ID}, "", 0, "identity: sms:+15550100"},
		{"OK/showIdentity", []string{"customers", "show", "--data-dir", data, "--identity", "sms:+15550100"}, "", 0,
			"stored: 1 identities, 1 conversations, 1 messages, 1 deliveries, 0 tickets, 0 notes, 0 CSAT responses, 0 answer votes"},
		{"ErrNotConfirmed", []string{"customers", "erase", "--data-dir", data, ada.ID}, "no\n", 1, "Type the customer id"},
		{"ErrNoInput", []string{"customers", "erase", "--data-dir", data, ada.ID}, "", 1, "1 messages"},
		{"OK/stillThere", []string{"customers", "show", "--data-dir", data, ada.ID}, "", 0, "identity: sms:+15550100"},
		{"OK/eraseConfirmed", []string{"customers", "erase", "--data-dir", data, "--identity", "sms:+15550100"}, ada.ID + "\n", 0,
			"erased customer " + ada.ID + ": 1 identities, 1 conversations, 1 messages, 1 deliveries"},
		{"ErrShowErased", []string{"customers", "show", "--data-dir", data, ada.ID}, "", 1, ""},
		{"OK/eraseYes", []string{"customers", "erase", "--data-dir", data, bob.ID, "--yes", "--actor", "ticket:42"}, "", 0, "erased customer " + bob.ID},
		{"ErrEraseUnknown", []string{"customers", "erase", "--data-dir", data, "--yes", bob.ID}, "", 1, ""},
		{"ErrUnknownIdentity", []string{"customers", "erase", "--data-dir", data, "--yes", "--identity", "sms:+15550199"}, "", 1, ""},
		{"ErrNoCustomer", []string{"customers", "erase", "--data-dir", data}, "", 2, ""},
		{"ErrBoth", []string{"customers", "show", "--data-dir", data, "--identity", "sms:+1", ada.ID}, "", 2, ""},
		{"ErrIdentityForm", []string{"customers", "show", "--data-dir", data, "--identity", "+15550100"}, "", 2, ""},
		{"ErrTwo", []string{"customers", "show", "--data-dir", data, ada.ID, bob.ID}, "", 2, ""},
	}
	for _, s := range steps {
		var out, errb bytes.Buffer
		env := Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
		if s.stdin != "" {
			env.Stdin = strings.NewReader(s.stdin)
		}
		code := Main(ctx, env, s.args)
		if code != s.wantCode || !strings.Contains(out.String(), s.wantOut) {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q; want exit %d and %q", s.name, code, out.String(), errb.String(), s.wantCode, s.wantOut)
		}
	}

	st, err = openStore(ctx, storeFlags{dataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	es, err := st.ListAudit(ctx, storage.AuditFilter{Action: storage.AuditCustomerErase})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].Subject != bob.ID || es[0].Actor != "ticket:42" || es[1].Subject != ada.ID || es[1].Actor != "cli" {
		t.Errorf("audit = %+v", es)
	}
	if ds, err := st.ListDeliveries(ctx, storage.DeliveryFilter{}); err != nil || len(ds) != 0 {
		t.Errorf("deliveries after erasure = %+v, %v", ds, err)
	}
}
