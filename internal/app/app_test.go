package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/app"
	"github.com/tandemhq/tandem/internal/browsertest"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/pgtest"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/web/kb"
)

// storeDSNs are the stores end-to-end tests run on, as the database URL to give the app
// ("" is the embedded SQLite store).
var storeDSNs = map[string]func(t *testing.T) string{
	"SQLite":   func(t *testing.T) string { return "" },
	"Postgres": func(t *testing.T) string { return pgtest.NewSchema(t) },
}

// start runs the real application with the demo bot on 127.0.0.1:0 and returns its base URL.
// databaseURL "" means the embedded SQLite store in a temporary folder; opts change the
// configuration last.
func start(t *testing.T, databaseURL string, opts ...func(*config.Config)) string {
	t.Helper()
	_, url := startApp(t, databaseURL, opts...)
	return url
}

// startApp is start that also returns the running App.
func startApp(t *testing.T, databaseURL string, opts ...func(*config.Config)) (*app.App, string) {
	t.Helper()
	cfg, err := config.Load("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.DatabaseURL = databaseURL
	cfg.Demo = true
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := a.Listen(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		if err := a.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return a, "http://" + a.Addr()
}

type turnJSON struct {
	ConversationID string `json:"conversation_id"`
	Replies        []struct {
		Text      string `json:"text"`
		Citations []struct {
			DocID string `json:"doc_id"`
			Title string `json:"title"`
		} `json:"citations"`
	} `json:"replies"`
	Intent struct {
		Name       string  `json:"name"`
		Confidence float64 `json:"confidence"`
	} `json:"intent"`
	Sentiment struct {
		Label string  `json:"label"`
		Score float64 `json:"score"`
	} `json:"sentiment"`
	Handoff    *json.RawMessage `json:"handoff"`
	ActiveFlow string           `json:"active_flow"`
	ActiveStep string           `json:"active_step"`
}

func post(t *testing.T, url, body string) (int, []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestDemoShippingQuestion is the README's promise: ask the demo bot how long shipping takes
// and get an answer that cites the shipping article — on both stores.
func TestDemoShippingQuestion(t *testing.T) {
	t.Parallel()
	for name, dsn := range storeDSNs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			base := start(t, dsn(t))
			code, body := post(t, base+"/api/v1/bots/demo/messages", `{"user":"e2e-1","text":"How long does shipping take?"}`)
			if code != http.StatusOK {
				t.Fatalf("status %d: %s", code, body)
			}
			var turn turnJSON
			if err := json.Unmarshal(body, &turn); err != nil {
				t.Fatal(err)
			}
			if len(turn.Replies) == 0 || len(turn.Replies[0].Citations) == 0 {
				t.Fatalf("no cited reply: %s", body)
			}
			if got := turn.Replies[0].Citations[0].DocID; got != "demo/shipping-times" {
				t.Errorf("cited %q, want demo/shipping-times", got)
			}
			if !strings.Contains(turn.Replies[0].Text, "business days") {
				t.Errorf("reply %q does not say how long shipping takes", turn.Replies[0].Text)
			}
			if turn.Handoff != nil && string(*turn.Handoff) != "null" {
				t.Errorf("handoff = %s, want null", *turn.Handoff)
			}
			if turn.ActiveFlow != "" {
				t.Errorf("a knowledge answer left flow %q active", turn.ActiveFlow)
			}
			// A flow in progress is named in the answer.
			_, body = post(t, base+"/api/v1/bots/demo/messages", `{"user":"e2e-2","text":"track my order"}`)
			var asked turnJSON
			if err := json.Unmarshal(body, &asked); err != nil {
				t.Fatal(err)
			}
			if asked.ActiveFlow != "order_status" || asked.ActiveStep != "ask_order" {
				t.Errorf("after \"track my order\": active flow %q step %q, want order_status ask_order", asked.ActiveFlow, asked.ActiveStep)
			}

			// The transcript holds both sides of the turn.
			resp, err := http.Get(base + "/api/v1/conversations/" + turn.ConversationID)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var tr struct {
				Messages []struct{ Role, Text, Channel string } `json:"messages"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
				t.Fatal(err)
			}
			if len(tr.Messages) != 2 || tr.Messages[0].Role != "customer" || tr.Messages[1].Role != "bot" || tr.Messages[0].Channel != "rest" {
				t.Errorf("transcript = %+v, want customer then bot on rest", tr.Messages)
			}
		})
	}
}

// TestBadInput says what happens to bad input at the REST channel of the real app.
func TestBadInput(t *testing.T) {
	t.Parallel()
	base := start(t, "")
	tests := []struct {
		name string
		path string
		body string
		code int
	}{
		{"ErrMalformedJSON", "/api/v1/bots/demo/messages", `{"user":`, http.StatusBadRequest},
		{"ErrUnknownBot", "/api/v1/bots/nobot/messages", `{"user":"u","text":"hi"}`, http.StatusNotFound},
		{"ErrEmptyText", "/api/v1/bots/demo/messages", `{"user":"u","text":"  "}`, http.StatusBadRequest},
		{"ErrTooLong", "/api/v1/bots/demo/messages", `{"user":"u","text":"` + strings.Repeat("a", 4097) + `"}`, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := post(t, base+tt.path, tt.body)
			if code != tt.code {
				t.Fatalf("status = %d, want %d (%s)", code, tt.code, body)
			}
			var e struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" {
				t.Errorf("body %s is not a JSON error", body)
			}
		})
	}
}

// TestHealthAndMetrics checks the operational endpoints of the real app.
func TestHealthAndMetrics(t *testing.T) {
	t.Parallel()
	base := start(t, "")
	post(t, base+"/api/v1/bots/demo/messages", `{"user":"m","text":"hello"}`)
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready", "/metrics": "tandem_", "/kb/": "Shipping times and costs", "/kb/unanswered": "nanswered"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(want)) {
			t.Errorf("%s: status %d, body lacks %q", path, resp.StatusCode, want)
		}
	}
}

// TestChatPageDemoBrowser opens the chat page of the real app in headless Chromium, asks the
// shipping question and sees the answer with its citation.
func TestChatPageDemoBrowser(t *testing.T) {
	t.Parallel()
	base := start(t, "")
	ctx := browsertest.New(t)
	browsertest.ScreenshotOnFailure(t, ctx)
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("message")),
		chromedp.SendKeys(chromedp.ID("message"), "How long does shipping take?"),
		chromedp.Click(chromedp.ID("send")),
		chromedp.WaitVisible(chromedp.CSS(".msg-bot .citation a")),
	)
	if err != nil {
		t.Fatalf("chat: %v", err)
	}
	reply, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".msg-bot .msg-text")))
	if err != nil {
		t.Fatal(err)
	}
	cite, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".msg-bot .citation a")))
	if err != nil {
		t.Fatal(err)
	}
	attr, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(".msg-bot .citation a"), "href"))
	if err != nil {
		t.Fatal(err)
	}
	href := attr.Value
	if !strings.Contains(reply, "business days") {
		t.Errorf("reply = %q, want the shipping answer", reply)
	}
	if cite != "Shipping times and costs" || !strings.Contains(href, "/help/shipping") {
		t.Errorf("citation = %q (%s), want the shipping article", cite, href)
	}
}

// TestUnansweredQuestionsRecorded checks that a question the knowledge base cannot answer is
// kept, with personal data redacted, for the editors' report.
func TestUnansweredQuestionsRecorded(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir, cfg.Demo = t.TempDir(), true
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	for _, text := range []string{
		"How long does shipping take?",
		"Can I pay with the card 4111 1111 1111 1111 for a pet insurance policy on my hamster?",
	} {
		if _, err := a.Engine().HandleMessage(ctx, tandem.Inbound{BotID: "demo", Channel: tandem.ChannelREST, ExternalID: "u-unanswered", Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := a.Store().ListAudit(ctx, storage.AuditFilter{Action: kb.ActionUnanswered})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range got {
		if strings.Contains(e.Detail["question"], "shipping take") {
			t.Errorf("answered question recorded as unanswered: %q", e.Detail["question"])
		}
		if strings.Contains(e.Detail["question"], "4111") {
			t.Errorf("card number not redacted: %q", e.Detail["question"])
		}
	}
	if len(got) != 1 || !strings.Contains(got[0].Detail["question"], "hamster") || got[0].Detail["bot"] != "demo" {
		t.Errorf("unanswered entries = %+v, want the hamster question", got)
	}
}

// TestJapaneseQuestionEnglishArticle checks that the demo bot's glossary reaches the knowledge
// base: a question in Japanese is answered from the English shipping article.
func TestJapaneseQuestionEnglishArticle(t *testing.T) {
	t.Parallel()
	base := start(t, "")
	code, body := post(t, base+"/api/v1/bots/demo/messages", `{"user":"ja-1","text":"送料はいくらですか？"}`)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	var turn turnJSON
	if err := json.Unmarshal(body, &turn); err != nil {
		t.Fatal(err)
	}
	if len(turn.Replies) == 0 || len(turn.Replies[0].Citations) == 0 || turn.Replies[0].Citations[0].DocID != "demo/shipping-times" {
		t.Errorf("reply %s: want a citation of demo/shipping-times", body)
	}
}
