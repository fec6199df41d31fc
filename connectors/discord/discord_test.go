package discord

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors"
	"github.com/tandemhq/tandem/connectors/connectortest"
)

// provider speaks Discord's REST protocol for the conformance suite.
type provider struct{}

func (provider) Connector(t *testing.T, api *httptest.Server) connectors.Connector {
	t.Helper()
	return newTestConnector(t, api)
}

func newTestConnector(t *testing.T, api *httptest.Server) *Connector {
	t.Helper()
	k, err := New(Config{BotID: "demo", Token: "tok"}, WithAPIURL(api.URL), WithHTTPClient(api.Client()),
		WithLogger(slog.New(slog.NewTextHandler(t.Output(), nil))))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	k.backoff = time.Millisecond
	return k
}

func (provider) SendOK(w http.ResponseWriter, r *http.Request) string {
	if isChannelCreate(r) {
		writeJSON(w, http.StatusOK, map[string]any{"id": "dm-1", "type": 1})
		return ""
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": "m-100", "channel_id": "dm-1", "type": 0,
		"author": map[string]any{"id": "bot-self", "bot": true}})
	return "m-100"
}

func (provider) RateLimited(w http.ResponseWriter, _ *http.Request, after time.Duration) {
	rateLimited(w, after)
}

// BadAddress answers as Discord does for a user who does not accept DMs from the bot: the
// DM channel opens, the message is refused.
func (p provider) BadAddress(w http.ResponseWriter, r *http.Request) {
	if isChannelCreate(r) {
		p.SendOK(w, r)
		return
	}
	writeJSON(w, http.StatusForbidden, map[string]any{"message": "Cannot send messages to this user", "code": 50007})
}

func (provider) SentText(t *testing.T, r *http.Request, body []byte) string {
	if isChannelCreate(r) {
		return ""
	}
	var m struct {
		Content    string `json:"content"`
		Components []struct {
			Components []struct {
				Label string `json:"label"`
			} `json:"components"`
		} `json:"components"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Errorf("message body is not JSON: %v: %s", err, body)
	}
	text := m.Content
	for _, row := range m.Components {
		for _, b := range row.Components {
			text += "\n[" + b.Label + "]"
		}
	}
	return text
}

func (provider) Recipient() string { return "80351110224678912" }

func (provider) Features() connectortest.Features {
	return connectortest.Features{Webhook: false, ExactRetryAfter: true}
}

func (provider) Webhook(*testing.T, string, string, string) *http.Request { return nil }
func (provider) Unsigned(*testing.T, *http.Request) *http.Request         { return nil }
func (provider) Inbound(from string) (tandem.Channel, string)             { return tandem.ChannelDiscord, from }

func TestConformance(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, provider{})
}

func isChannelCreate(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/users/@me/channels")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// rateLimited answers as Discord does when a bucket is exhausted.
func rateLimited(w http.ResponseWriter, after time.Duration) {
	secs := strconv.FormatFloat(after.Seconds(), 'f', -1, 64)
	h := w.Header()
	h.Set("Retry-After", strconv.Itoa(int(after.Round(time.Second)/time.Second)))
	h.Set("X-RateLimit-Limit", "5")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(after).Unix(), 10))
	h.Set("X-RateLimit-Reset-After", secs)
	h.Set("X-RateLimit-Bucket", "abcd1234")
	h.Set("X-RateLimit-Scope", "user")
	writeJSON(w, http.StatusTooManyRequests, map[string]any{"message": "You are being rate limited.",
		"retry_after": after.Seconds(), "global": false})
}

// call is one request the fake Discord API received.
type call struct {
	method, path, auth string
	body               []byte
}

// restAPI is a scripted Discord REST API: answer decides each response by the request's
// position; every request is recorded.
type restAPI struct {
	mu     sync.Mutex
	calls  []call
	answer func(n int, w http.ResponseWriter, r *http.Request)
}

func (a *restAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	a.calls = append(a.calls, call{r.Method, r.URL.Path, r.Header.Get("Authorization"), body})
	n := len(a.calls) - 1
	a.mu.Unlock()
	a.answer(n, w, r)
}

func (a *restAPI) recorded() []call {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]call(nil), a.calls...)
}

func discordError(status, code int, msg string) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, status, map[string]any{"message": msg, "code": code})
	}
}

// openThen opens the DM channel and answers the rest with answer.
func openThen(answer func(int, http.ResponseWriter, *http.Request)) func(int, http.ResponseWriter, *http.Request) {
	return func(n int, w http.ResponseWriter, r *http.Request) {
		if isChannelCreate(r) {
			provider{}.SendOK(w, r)
			return
		}
		answer(n, w, r)
	}
}

var out = connectors.Outgoing{IdempotencyKey: "msg-1", BotID: "demo", To: "80351110224678912",
	Reply: tandem.Reply{Text: "Your order shipped today.",
		Citations:    []tandem.Citation{{Title: "Shipping", URL: "https://help.example.com/shipping"}},
		QuickReplies: []tandem.QuickReply{{Title: "Track it", Payload: "track"}}}}

func TestSend(t *testing.T) {
	t.Parallel()
	ok := func(_ int, w http.ResponseWriter, r *http.Request) { provider{}.SendOK(w, r) }
	// The wire paths discordgo v0.29.0 uses (its APIVersion is 9).
	const openPath, sendPath = "/api/v9/users/@me/channels", "/api/v9/channels/dm-1/messages"

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		api := &restAPI{answer: ok}
		srv := httptest.NewServer(api)
		defer srv.Close()
		k := newTestConnector(t, srv)
		id, err := k.Send(context.Background(), out)
		if err != nil || id != "m-100" {
			t.Fatalf("Send = %q, %v; want m-100", id, err)
		}
		calls := api.recorded()
		if len(calls) != 2 {
			t.Fatalf("%d requests, want 2 (open DM, send)", len(calls))
		}
		for i, want := range []string{openPath, sendPath} {
			if c := calls[i]; c.method != http.MethodPost || c.path != want || c.auth != "Bot tok" {
				t.Errorf("request %d = %s %s auth %q, want POST %s auth %q", i, c.method, c.path, c.auth, want, "Bot tok")
			}
		}
		var open struct {
			RecipientID string `json:"recipient_id"`
		}
		if err := json.Unmarshal(calls[0].body, &open); err != nil || open.RecipientID != out.To {
			t.Errorf("open DM body = %s, want recipient_id %s", calls[0].body, out.To)
		}
		var msg struct {
			Content      string `json:"content"`
			Nonce        string `json:"nonce"`
			EnforceNonce bool   `json:"enforce_nonce"`
			Embeds       []struct {
				Type, Title, URL string
			} `json:"embeds"`
			Components []struct {
				Type       int `json:"type"`
				Components []struct {
					Type     int    `json:"type"`
					Style    int    `json:"style"`
					Label    string `json:"label"`
					CustomID string `json:"custom_id"`
				} `json:"components"`
			} `json:"components"`
			AllowedMentions struct {
				Parse []string `json:"parse"`
			} `json:"allowed_mentions"`
		}
		if err := json.Unmarshal(calls[1].body, &msg); err != nil {
			t.Fatalf("message body: %v: %s", err, calls[1].body)
		}
		if msg.Content != out.Reply.Text {
			t.Errorf("content = %q, want %q", msg.Content, out.Reply.Text)
		}
		if len(msg.Nonce) != 25 || msg.Nonce != nonce(out.IdempotencyKey) || !msg.EnforceNonce {
			t.Errorf("nonce = %q enforce %v, want the 25-char hash of the idempotency key, enforced", msg.Nonce, msg.EnforceNonce)
		}
		if len(msg.Embeds) != 1 || msg.Embeds[0].Type != "rich" || msg.Embeds[0].URL != "https://help.example.com/shipping" {
			t.Errorf("embeds = %+v, want one rich embed for the citation", msg.Embeds)
		}
		if len(msg.Components) != 1 || msg.Components[0].Type != 1 || len(msg.Components[0].Components) != 1 {
			t.Fatalf("components = %+v, want one action row with one button", msg.Components)
		}
		if b := msg.Components[0].Components[0]; b.Type != 2 || b.Style != 1 || b.Label != "Track it" || b.CustomID != "qr:track" {
			t.Errorf("button = %+v, want a primary button Track it / qr:track", b)
		}
		if msg.AllowedMentions.Parse == nil || len(msg.AllowedMentions.Parse) != 0 {
			t.Errorf("allowed_mentions.parse = %v, want []", msg.AllowedMentions.Parse)
		}
	})

	t.Run("OKCachedChannel", func(t *testing.T) {
		t.Parallel()
		api := &restAPI{answer: ok}
		srv := httptest.NewServer(api)
		defer srv.Close()
		k := newTestConnector(t, srv)
		for i := range 2 {
			if _, err := k.Send(context.Background(), out); err != nil {
				t.Fatalf("Send %d: %v", i, err)
			}
		}
		var opens int
		for _, c := range api.recorded() {
			if c.path == openPath {
				opens++
			}
		}
		if got := len(api.recorded()); opens != 1 || got != 3 {
			t.Errorf("%d requests with %d DM opens, want 3 with 1", got, opens)
		}
	})

	t.Run("OKStaleChannel", func(t *testing.T) {
		t.Parallel()
		// open, send, send → Unknown Channel, open again, send.
		api := &restAPI{answer: func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 2 {
				discordError(http.StatusNotFound, 10003, "Unknown Channel")(n, w, r)
				return
			}
			ok(n, w, r)
		}}
		srv := httptest.NewServer(api)
		defer srv.Close()
		k := newTestConnector(t, srv)
		for i := range 2 {
			if _, err := k.Send(context.Background(), out); err != nil {
				t.Fatalf("Send %d: %v", i, err)
			}
		}
		var paths []string
		for _, c := range api.recorded() {
			paths = append(paths, c.path)
		}
		if want := []string{openPath, sendPath, sendPath, openPath, sendPath}; fmt.Sprint(paths) != fmt.Sprint(want) {
			t.Errorf("requests = %v, want %v", paths, want)
		}
	})

	errs := []struct {
		name     string
		answer   func(int, http.ResponseWriter, *http.Request)
		code     string        // tandem code wanted; "" for a retry-later
		after    time.Duration // wanted snooze of a retry-later
		requests int
	}{
		{name: "ErrCannotMessage", answer: func(n int, w http.ResponseWriter, r *http.Request) { provider{}.BadAddress(w, r) },
			code: tandem.EINVALID, requests: 2},
		{name: "ErrUnknownUser", answer: discordError(http.StatusNotFound, 10013, "Unknown User"),
			code: tandem.EINVALID, requests: 1},
		{name: "ErrUnknownChannel", answer: openThen(discordError(http.StatusNotFound, 10003, "Unknown Channel")),
			code: tandem.EINVALID, requests: 2},
		{name: "ErrRateLimited", answer: func(_ int, w http.ResponseWriter, _ *http.Request) { rateLimited(w, 7*time.Second) },
			after: 7 * time.Second, requests: 1},
		{name: "ErrRateLimitedFraction", answer: func(_ int, w http.ResponseWriter, _ *http.Request) { rateLimited(w, 1500*time.Millisecond) },
			after: 1500 * time.Millisecond, requests: 1},
		{name: "ErrServer", answer: discordError(http.StatusInternalServerError, 0, "500: Internal Server Error"),
			code: tandem.EINTERNAL, requests: 1},
		{name: "ErrBadGatewayNotRetriedInside", answer: func(_ int, w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "bad gateway", http.StatusBadGateway)
		}, code: tandem.EINTERNAL, requests: 1},
		{name: "ErrUnauthorized", answer: discordError(http.StatusUnauthorized, 0, "401: Unauthorized"),
			code: tandem.EINTERNAL, requests: 1},
		{name: "ErrMissingAccess", answer: discordError(http.StatusForbidden, 50001, "Missing Access"),
			code: tandem.EINTERNAL, requests: 1},
		{name: "ErrGarbage", answer: func(_ int, w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, "<html>")
		}, code: tandem.EINTERNAL, requests: 1},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			api := &restAPI{answer: tc.answer}
			srv := httptest.NewServer(api)
			defer srv.Close()
			_, err := newTestConnector(t, srv).Send(context.Background(), out)
			if err == nil {
				t.Fatal("Send succeeded")
			}
			after, retryLater := connectors.RetryAfter(err)
			switch {
			case tc.code == "" && (!retryLater || after != tc.after):
				t.Errorf("Send error = %v, want retry later after %s", err, tc.after)
			case tc.code != "" && (retryLater || tandem.ErrorCode(err) != tc.code):
				t.Errorf("Send error = %v (code %q), want code %q", err, tandem.ErrorCode(err), tc.code)
			}
			if got := len(api.recorded()); got != tc.requests {
				t.Errorf("%d requests, want %d: the worker, not discordgo, retries", got, tc.requests)
			}
		})
	}

	t.Run("ErrNoRecipient", func(t *testing.T) {
		t.Parallel()
		api := &restAPI{answer: ok}
		srv := httptest.NewServer(api)
		defer srv.Close()
		o := out
		o.To = ""
		_, err := newTestConnector(t, srv).Send(context.Background(), o)
		if tandem.ErrorCode(err) != tandem.EINVALID || len(api.recorded()) != 0 {
			t.Errorf("Send error = %v after %d requests, want EINVALID and none", err, len(api.recorded()))
		}
	})

	t.Run("ErrCanceled", func(t *testing.T) {
		t.Parallel()
		api := &restAPI{answer: ok}
		srv := httptest.NewServer(api)
		defer srv.Close()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := newTestConnector(t, srv).Send(ctx, out)
		if err == nil || tandem.ErrorCode(err) == tandem.EINVALID {
			t.Errorf("Send error = %v, want a retryable error", err)
		}
	})
}

func TestConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		ok   bool
		auth string
	}{
		{name: "OK", cfg: Config{BotID: "demo", Token: "tok"}, ok: true, auth: "Bot tok"},
		{name: "OKPrefixed", cfg: Config{BotID: "demo", Token: " Bot tok\n"}, ok: true, auth: "Bot tok"},
		{name: "ErrNoBot", cfg: Config{Token: "tok"}},
		{name: "ErrNoToken", cfg: Config{BotID: "demo"}},
		{name: "ErrBotPrefixOnly", cfg: Config{BotID: "demo", Token: "Bot "}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := tc.cfg.WithDefaults()
			err := cfg.Validate()
			if (err == nil) != tc.ok || (err != nil && tandem.ErrorCode(err) != tandem.EINVALID) {
				t.Fatalf("Validate = %v, want ok %v or EINVALID", err, tc.ok)
			}
			if tc.ok && cfg.authorization() != tc.auth {
				t.Errorf("authorization = %q, want %q", cfg.authorization(), tc.auth)
			}
			if s := cfg.String(); strings.Contains(s, "tok") {
				t.Errorf("String leaks the token: %s", s)
			}
		})
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	t.Run("OKLeavesGlobalsAndClientAlone", func(t *testing.T) {
		t.Parallel()
		client := &http.Client{}
		k, err := New(Config{BotID: "demo", Token: "tok"}, WithAPIURL("http://127.0.0.1:1"), WithHTTPClient(client))
		if err != nil {
			t.Fatal(err)
		}
		if client.Transport != nil {
			t.Error("WithAPIURL changed the caller's client")
		}
		if discordgo.EndpointAPI != "https://discord.com/api/v"+discordgo.APIVersion+"/" {
			t.Errorf("discordgo.EndpointAPI = %s; the package's endpoints must stay as they are", discordgo.EndpointAPI)
		}
		if k.Channel() != tandem.ChannelDiscord || k.Handler(nil) != nil {
			t.Error("a Discord connector is on channel discord and serves no webhook")
		}
	})
	t.Run("ErrAPIURL", func(t *testing.T) {
		t.Parallel()
		_, err := New(Config{BotID: "demo", Token: "tok"}, WithAPIURL("127.0.0.1:1"))
		if tandem.ErrorCode(err) != tandem.EINVALID {
			t.Errorf("New = %v, want EINVALID for a relative URL", err)
		}
	})
}
