package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

func TestDeliveriesCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "data")
	st, err := openStore(ctx, storeFlags{dataDir: data, migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	cust, _, err := st.ResolveIdentity(ctx, tandem.ChannelSMS, "+15550100")
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
	if err := st.EnqueueDeliveries(ctx, []*tandem.Delivery{{MessageID: m.ID, BotID: "demo", Channel: tandem.ChannelSMS, To: "+15550100"}}); err != nil {
		t.Fatal(err)
	}
	failed, lastErr := tandem.DeliveryFailed, "twilio: 21614 not a mobile number"
	if _, err := st.UpdateDelivery(ctx, m.ID, storage.DeliveryUpdate{Status: &failed, LastError: &lastErr}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	steps := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"OK/listFailed", []string{"deliveries", "list", "--data-dir", data}, 0, "21614 not a mobile number"},
		{"OK/retry", []string{"deliveries", "retry", "--data-dir", data, m.ID}, 0, "queued again for +15550100 on sms"},
		{"OK/listPending", []string{"deliveries", "list", "--data-dir", data, "--status", "pending", "--format", "json"}, 0, `"Status": "pending"`},
		{"ErrRetryNotFailed", []string{"deliveries", "retry", "--data-dir", data, m.ID}, 1, ""},
		{"ErrRetryUnknown", []string{"deliveries", "retry", "--data-dir", data, "no-such-message"}, 1, ""},
		{"ErrStatus", []string{"deliveries", "list", "--data-dir", data, "--status", "lost"}, 2, ""},
		{"ErrRetryUsage", []string{"deliveries", "retry", "--data-dir", data}, 2, ""},
	}
	for _, s := range steps {
		code, out, stderr := runKBCLI(t, s.args...)
		if code != s.wantCode || !strings.Contains(out, s.wantOut) {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q; want exit %d and %q", s.name, code, out, stderr, s.wantCode, s.wantOut)
		}
	}
}
