package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/web"
)

// echoEngine answers every message of the "demo" bot with its text.
type echoEngine struct{}

func (echoEngine) HandleMessage(ctx context.Context, in tandem.Inbound) (*tandem.Turn, error) {
	if in.BotID != "demo" {
		return nil, tandem.Errorf(tandem.ENOTFOUND, "no bot %q", in.BotID)
	}
	return &tandem.Turn{ConversationID: "c1", Replies: []tandem.Reply{{Text: in.Text}}}, nil
}

// FuzzPostMessage feeds arbitrary bodies to the REST channel: the server must answer 200 or a
// JSON client error, never a 500, and the text it passes on must be valid and within limits.
func FuzzPostMessage(f *testing.F) {
	for _, seed := range []string{
		`{"user":"u1","text":"hello"}`,
		`{"user":"u1","text":"hi","message_id":"m1","conversation_id":"c1"}`,
		`{"user":"u1","text":"` + strings.Repeat("é", 3000) + `"}`,
		`{"user":"u1","text":"\u0000\ud800"}`,
		`{"user":1}`, `[]`, `null`, `{"user":"u","text":"a"}{}`, `{"user":"u","text":"a","x":1}`, ``,
	} {
		f.Add(seed)
	}
	srv := web.NewServer(web.Config{
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Registerer: prometheus.NewRegistry(),
	}, web.Deps{Engine: echoEngine{}, Conversations: newScriptedEngine()})
	allowed := map[int]bool{200: true, 400: true, 404: true, 413: true}
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/bots/demo/messages", strings.NewReader(body))
		req.RemoteAddr = "127.0.0.1:50000"
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if !allowed[rec.Code] {
			t.Fatalf("status %d for body %q: %s", rec.Code, body, rec.Body)
		}
		if rec.Code != 200 {
			e := decodeErrorBody(t, rec.Body.String())
			if web.ErrorStatus(e.Error.Code) != rec.Code || e.Error.Message == "" {
				t.Fatalf("status %d with error %+v", rec.Code, e.Error)
			}
			return
		}
		var resp web.PostMessageResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("response %q: %v", rec.Body, err)
		}
		if len(resp.Replies) != 1 {
			t.Fatalf("replies = %+v", resp.Replies)
		}
		got := resp.Replies[0].Text
		if got == "" || strings.TrimSpace(got) != got || len(got) > web.DefaultMaxMessageBytes {
			t.Fatalf("engine got text %q: empty, untrimmed or over the limit", got)
		}
	})
}
