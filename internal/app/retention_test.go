package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/internal/cli"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/pgtest"
)

// TestEraseCustomer is the right to erasure end to end: a customer chats with the running
// app, an operator erases them with `tandem customers erase`, and their transcript is gone.
func TestEraseCustomer(t *testing.T) {
	t.Parallel()
	stores := map[string]func(t *testing.T) (dsn string, storeFlag []string){
		"SQLite": func(t *testing.T) (string, []string) {
			return "", []string{"--data-dir", t.TempDir()}
		},
		"Postgres": func(t *testing.T) (string, []string) {
			dsn := pgtest.NewSchema(t)
			return dsn, []string{"--database-url", dsn}
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dsn, storeFlag := open(t)
			base := start(t, dsn, func(c *config.Config) {
				if dsn == "" {
					c.DataDir = storeFlag[1]
				}
			})
			code, body := post(t, base+"/api/v1/bots/demo/messages", `{"user":"erase-me","text":"my email is ada@example.com, where is my order?"}`)
			if code != http.StatusOK {
				t.Fatalf("status %d: %s", code, body)
			}
			var turn turnJSON
			if err := json.Unmarshal(body, &turn); err != nil {
				t.Fatal(err)
			}
			transcript := func() (int, string) {
				t.Helper()
				resp, err := http.Get(base + "/api/v1/conversations/" + turn.ConversationID)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b)
			}
			if code, b := transcript(); code != http.StatusOK || !strings.Contains(b, "ada@example.com") {
				t.Fatalf("transcript before erasure: %d %s", code, b)
			}

			var out, errb bytes.Buffer
			args := append([]string{"customers", "erase", "--identity", "rest:erase-me", "--yes", "--actor", "ticket:gdpr-7"}, storeFlag...)
			if code := cli.Main(context.Background(), cli.Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}, args); code != 0 {
				t.Fatalf("erase: exit %d: %s %s", code, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), "1 conversations, 2 messages") {
				t.Errorf("erase printed %q", out.String())
			}
			if code, b := transcript(); code != http.StatusNotFound {
				t.Errorf("transcript after erasure: %d %s, want 404", code, b)
			}

			resp, err := http.Get(base + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			m, _ := io.ReadAll(resp.Body)
			if !strings.Contains(string(m), `tandem_retention_deleted_total{kind="conversations"} 0`) {
				t.Errorf("metrics lack tandem_retention_deleted_total")
			}
		})
	}
}
