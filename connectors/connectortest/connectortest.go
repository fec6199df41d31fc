// Package connectortest is the conformance suite every connector adapter runs: the real
// client library of each provider talks to a local httptest server that speaks the
// provider's wire protocol, scripted per case by the adapter's Provider.
package connectortest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors"
)

// Provider is an adapter's side of the suite: it builds the connector against a local
// provider server and speaks that provider's protocol for each scripted case.
type Provider interface {
	// Connector returns the adapter under test with its provider API (the real client
	// library) pointed at api.
	Connector(t *testing.T, api *httptest.Server) connectors.Connector

	// SendOK answers one send request as the provider does when it accepts the message,
	// and returns the provider message id it wrote.
	SendOK(w http.ResponseWriter, r *http.Request) (providerID string)
	// RateLimited answers as the provider does when it asks the caller to retry after the
	// given time.
	RateLimited(w http.ResponseWriter, r *http.Request, after time.Duration)
	// BadAddress answers as the provider does when the recipient can never receive the
	// message (unknown number, user not found).
	BadAddress(w http.ResponseWriter, r *http.Request)
	// SentText returns the text the client library sent in r, as the customer will see it.
	SentText(t *testing.T, r *http.Request, body []byte) string

	// Features declares what the adapter supports.
	Features() Features
	// Recipient is a customer id in the form the adapter's Inbound produces and Send
	// addresses (a phone number, a team-qualified Slack user, a Discord user id).
	Recipient() string
	// Webhook returns a signed inbound webhook request carrying a customer message.
	Webhook(t *testing.T, from, text, providerID string) *http.Request
	// Unsigned returns req with its signature broken.
	Unsigned(t *testing.T, req *http.Request) *http.Request
	// Channel is the channel a webhook from `from` is expected on, and ExternalID the
	// customer id the engine is expected to see.
	Inbound(from string) (channel tandem.Channel, externalID string)
}

// Features are the differences between adapters, declared rather than skipped.
type Features struct {
	// Webhook: the adapter receives over HTTP webhooks (Connector.Handler). A gateway
	// adapter (Discord) tests its gateway itself and leaves Webhook false.
	Webhook bool
	// ExactRetryAfter: the provider's "retry later" carries a delay (Retry-After header,
	// retry_after field) and the adapter reports exactly that delay. Without it the suite
	// only asks for a positive delay.
	ExactRetryAfter bool
}

// Run runs the conformance suite against p.
func Run(t *testing.T, p Provider) {
	t.Run("Send", func(t *testing.T) { runSend(t, p) })
	if p.Features().Webhook {
		t.Run("Webhook", func(t *testing.T) { runWebhook(t, p) })
	}
}

func runSend(t *testing.T, p Provider) {
	reply := tandem.Reply{Text: "Your order shipped today.",
		QuickReplies: []tandem.QuickReply{{Title: "Track it", Payload: "track"}}}
	out := connectors.Outgoing{IdempotencyKey: "msg-1", BotID: "demo", To: p.Recipient(), Reply: reply}

	t.Run("OK", func(t *testing.T) {
		var got string
		var gotID string
		api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(strings.NewReader(string(body)))
			got = p.SentText(t, r, body)
			gotID = p.SendOK(w, r)
		}))
		defer api.Close()
		id, err := p.Connector(t, api).Send(context.Background(), out)
		if err != nil {
			t.Fatalf("Send: %v", err)
		}
		if id == "" || id != gotID {
			t.Errorf("provider id = %q, want %q", id, gotID)
		}
		if !strings.Contains(got, reply.Text) {
			t.Errorf("sent text %q does not hold the reply %q", got, reply.Text)
		}
	})

	t.Run("ErrRetryLater", func(t *testing.T) {
		api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p.RateLimited(w, r, 7*time.Second)
		}))
		defer api.Close()
		_, err := p.Connector(t, api).Send(context.Background(), out)
		after, ok := connectors.RetryAfter(err)
		if !ok {
			t.Fatalf("Send error = %v, want a *connectors.RetryLaterError", err)
		}
		if exact := p.Features().ExactRetryAfter; (exact && after != 7*time.Second) || after <= 0 {
			t.Errorf("retry after = %s, want 7s (exact: %v) or at least a positive delay", after, exact)
		}
	})

	t.Run("ErrServer", func(t *testing.T) {
		api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"error":"boom"}`, http.StatusInternalServerError)
		}))
		defer api.Close()
		_, err := p.Connector(t, api).Send(context.Background(), out)
		if err == nil {
			t.Fatal("Send succeeded against a failing provider")
		}
		if code := tandem.ErrorCode(err); code == tandem.EINVALID {
			t.Errorf("a provider's 500 is final (%v); want an error the worker retries", err)
		}
	})

	t.Run("ErrBadAddress", func(t *testing.T) {
		api := httptest.NewServer(http.HandlerFunc(p.BadAddress))
		defer api.Close()
		_, err := p.Connector(t, api).Send(context.Background(), out)
		if code := tandem.ErrorCode(err); code != tandem.EINVALID {
			t.Errorf("Send error = %v (code %q), want EINVALID: the delivery can never succeed", err, code)
		}
	})

	t.Run("ErrUnreachable", func(t *testing.T) {
		api := httptest.NewServer(http.NotFoundHandler())
		api.Close() // nothing listens any more
		_, err := p.Connector(t, api).Send(context.Background(), out)
		if err == nil || tandem.ErrorCode(err) == tandem.EINVALID {
			t.Errorf("Send error = %v, want a retryable error", err)
		}
	})
}

// Receiver is the engine as a test scripts it: every call is recorded, and answered with
// Turn or Err. Safe for concurrent use.
type Receiver struct {
	Turn *tandem.Turn
	Err  error

	mu  sync.Mutex
	got []tandem.Inbound
}

// HandleMessage records in and returns the scripted answer.
func (r *Receiver) HandleMessage(_ context.Context, in tandem.Inbound) (*tandem.Turn, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, in)
	if r.Err != nil {
		return nil, r.Err
	}
	return r.Turn, nil
}

// Calls returns what the receiver was handed, in order.
func (r *Receiver) Calls() []tandem.Inbound {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]tandem.Inbound(nil), r.got...)
}

func runWebhook(t *testing.T, p Provider) {
	const from, text, pid = "+15005550006", "where is my order?", "SM0001"
	serve := func(t *testing.T, rcv *Receiver, req *http.Request) *httptest.ResponseRecorder {
		t.Helper()
		api := httptest.NewServer(http.NotFoundHandler())
		defer api.Close()
		h := p.Connector(t, api).Handler(rcv)
		if h == nil {
			t.Fatal("Handler is nil but Webhook returned a request")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	ok := &tandem.Turn{ConversationID: "c1", CustomerID: "u1", MessageID: "m1"}

	t.Run("OK", func(t *testing.T) {
		rcv := &Receiver{Turn: ok}
		rec := serve(t, rcv, p.Webhook(t, from, text, pid))
		if rec.Code/100 != 2 {
			t.Fatalf("status = %d (%s), want 2xx", rec.Code, rec.Body)
		}
		calls := rcv.Calls()
		if len(calls) != 1 {
			t.Fatalf("engine called %d times, want 1", len(calls))
		}
		wantCh, wantExt := p.Inbound(from)
		in := calls[0]
		if in.Channel != wantCh || in.ExternalID != wantExt || in.Text != text || in.ProviderID == "" || in.BotID == "" {
			t.Errorf("inbound = %+v, want channel %s, external id %s, text %q, a provider id and a bot", in, wantCh, wantExt, text)
		}
	})

	t.Run("StableProviderID", func(t *testing.T) {
		// A provider's retry carries the same message: the engine must see the same
		// provider id both times, or the store cannot drop the repeat.
		rcv := &Receiver{Turn: ok}
		serve(t, rcv, p.Webhook(t, from, text, pid))
		serve(t, rcv, p.Webhook(t, from, text, pid))
		calls := rcv.Calls()
		if len(calls) != 2 || calls[0].ProviderID != calls[1].ProviderID {
			t.Errorf("two deliveries of one webhook gave provider ids %v", calls)
		}
	})

	t.Run("Duplicate", func(t *testing.T) {
		rcv := &Receiver{Turn: &tandem.Turn{ConversationID: "c1", Duplicate: true}}
		rec := serve(t, rcv, p.Webhook(t, from, text, pid))
		if rec.Code/100 != 2 {
			t.Errorf("a provider retry got %d; want 2xx so the provider stops retrying", rec.Code)
		}
	})

	t.Run("ErrSignature", func(t *testing.T) {
		rcv := &Receiver{Turn: ok}
		rec := serve(t, rcv, p.Unsigned(t, p.Webhook(t, from, text, pid)))
		if rec.Code != http.StatusUnauthorized && rec.Code != http.StatusForbidden {
			t.Errorf("status = %d, want 401 or 403", rec.Code)
		}
		if n := len(rcv.Calls()); n != 0 {
			t.Errorf("an unsigned webhook reached the engine %d times", n)
		}
	})

	t.Run("ErrTooLarge", func(t *testing.T) {
		rcv := &Receiver{Turn: ok}
		rec := serve(t, rcv, p.Webhook(t, from, strings.Repeat("a", connectors.MaxWebhookBytes+1), pid))
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("status = %d, want 413", rec.Code)
		}
		if n := len(rcv.Calls()); n != 0 {
			t.Errorf("an oversized webhook reached the engine %d times", n)
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		rcv := &Receiver{Err: tandem.Errorf(tandem.EINVALID, "empty message")}
		rec := serve(t, rcv, p.Webhook(t, from, text, pid))
		if rec.Code != http.StatusBadRequest {
			t.Errorf("status = %d, want 400 for a message the engine refuses", rec.Code)
		}
	})

	t.Run("ErrStore", func(t *testing.T) {
		rcv := &Receiver{Err: errors.New("database is down")}
		rec := serve(t, rcv, p.Webhook(t, from, text, pid))
		if rec.Code/100 != 5 {
			t.Errorf("status = %d, want 5xx: the message is not stored, so the provider must retry", rec.Code)
		}
		if strings.Contains(rec.Body.String(), "database is down") {
			t.Errorf("internal error leaked to the provider: %s", rec.Body)
		}
	})
}
