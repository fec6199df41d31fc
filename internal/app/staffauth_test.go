package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/internal/app"
	"github.com/tandemhq/tandem/internal/config"
)

// TestStaffAuthModes checks how the staff pages are guarded in each staff_auth mode.
func TestStaffAuthModes(t *testing.T) {
	t.Parallel()
	accounts := func(c *config.Config) {
		c.StaffAuth = config.StaffAuthAccounts
		c.SessionSecret = "staff-auth-test-secret-0123456789"
	}
	tests := []struct {
		name         string
		opts         []func(*config.Config)
		path         string
		wantStatus   int
		wantLocation string
	}{
		{"OKAccountsSignInPage", []func(*config.Config){accounts}, "/staff/signin", http.StatusOK, ""},
		{"ErrAccountsInbox", []func(*config.Config){accounts}, "/inbox/", http.StatusSeeOther, "/staff/signin?next=%2Finbox%2F"},
		{"ErrAccountsEditor", []func(*config.Config){accounts}, "/kb/", http.StatusSeeOther, "/staff/signin?next=%2Fkb%2F"},
		{"OKOpenDemoInbox", nil, "/inbox/", http.StatusOK, ""},
		{"ErrAccountsAdmin", []func(*config.Config){accounts}, "/staff/admin", http.StatusSeeOther, "/staff/signin?next=%2Fstaff%2Fadmin"},
		{"OKOpenNoStaffPages", nil, "/staff/signin", http.StatusNotFound, ""},
		{"OKOpenNoAdminPage", nil, "/staff/admin", http.StatusNotFound, ""},
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := start(t, "", tt.opts...)
			res, err := client.Get(base + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tt.wantStatus || res.Header.Get("Location") != tt.wantLocation {
				t.Errorf("GET %s: %d to %q, want %d to %q", tt.path, res.StatusCode, res.Header.Get("Location"), tt.wantStatus, tt.wantLocation)
			}
		})
	}
}

func TestStaffAccountsNeedSecret(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Addr, cfg.DataDir = "127.0.0.1:0", t.TempDir()
	_, err = app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "TANDEM_SESSION_SECRET") {
		t.Fatalf("New without a session secret in accounts mode = %v, want an error naming TANDEM_SESSION_SECRET", err)
	}
}
