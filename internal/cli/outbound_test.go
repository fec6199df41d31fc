package cli

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/bots/demo"
	"github.com/tandemhq/tandem/internal/app"
	"github.com/tandemhq/tandem/internal/config"
)

func TestOutbound(t *testing.T) {
	t.Parallel()
	const key = "test-key-0123456789abcdef"
	cfg, err := config.Load("", func(k string) string { return map[string]string{"TANDEM_API_KEYS": key}[k] })
	if err != nil {
		t.Fatal(err)
	}
	// The demo bot without its quiet hours, which would refuse the message at some hours
	// of the day.
	dir := t.TempDir()
	sub, err := fs.Sub(demo.FS, "bot")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(dir, "demo"), sub); err != nil {
		t.Fatal(err)
	}
	botYAML := filepath.Join(dir, "demo", "bot.yaml")
	b, err := os.ReadFile(botYAML)
	if err != nil {
		t.Fatal(err)
	}
	quiet := regexp.MustCompile(`(?m)^\s*quiet_hours:.*\n`)
	if !quiet.Match(b) {
		t.Fatal("the demo bot has no quiet hours to remove")
	}
	if err := os.WriteFile(botYAML, quiet.ReplaceAll(b, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.Addr, cfg.DataDir, cfg.BotsDir = "127.0.0.1:0", t.TempDir(), dir
	cfg.StaffAuth = config.StaffAuthOpen // no staff pages here; accounts would need a session secret
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Listen(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; a.Close() })
	server := "http://" + a.Addr()

	tests := []struct {
		name    string
		key     string
		args    []string
		code    int
		wantOut string
		wantErr string
	}{
		{"OK", key, []string{"--channel", "sms", "--to", "+15555550100", "--text", "Your parcel is delayed by a day."}, 0, "delayed by a day", ""},
		{"ErrNoKey", "", []string{"--to", "+15555550100", "--text", "hi"}, 2, "", "TANDEM_API_KEY"},
		{"ErrWrongKey", "wrong-key-0123456789abcdef", []string{"--to", "+15555550100", "--text", "hi"}, 1, "", "401"},
		{"ErrUnknownBot", key, []string{"--bot", "nobot", "--to", "+15555550100", "--text", "hi"}, 1, "", "404"},
		{"ErrNothingToSay", key, []string{"--to", "+15555550100"}, 1, "", "400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			env := Env{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string {
				return map[string]string{"TANDEM_API_KEY": tt.key, "TANDEM_SERVER": server}[k]
			}}
			code := Main(context.Background(), env, append([]string{"outbound"}, tt.args...))
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.code, errOut.String())
			}
			if !strings.Contains(out.String(), tt.wantOut) || !strings.Contains(errOut.String(), tt.wantErr) {
				t.Errorf("stdout %q (want %q), stderr %q (want %q)", out.String(), tt.wantOut, errOut.String(), tt.wantErr)
			}
		})
	}
}
