package cli

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tandemhq/tandem/internal/app"
	"github.com/tandemhq/tandem/internal/browsertest"
	"github.com/tandemhq/tandem/internal/config"
)

// TestStaffAccountsBrowser drives staff accounts end to end in headless Chromium against the
// real server: accounts are created with `tandem users add`; the agent opens the printed
// link, sets a password, signs in, reaches the inbox, is refused the knowledge editor, signs
// out and is asked to sign in again; the link no longer works; the admin, signed in, opens
// the editor.
func TestStaffAccountsBrowser(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	env := map[string]string{"TANDEM_SESSION_SECRET": testSessionSecret, "TANDEM_BASE_URL": "http://placeholder.invalid"}
	links := map[string]string{}
	for _, u := range []struct{ email, role string }{{"ann@example.com", "agent"}, {"root@example.com", "admin"}} {
		code, out, stderr := runWithEnv(t, env, "users", "add", "--data-dir", data, u.email, "--role", u.role)
		if code != 0 {
			t.Fatalf("users add %s: %d %s", u.email, code, stderr)
		}
		links[u.email] = linkIn(t, out)
	}

	cfg, err := config.Load("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Addr, cfg.DataDir, cfg.Demo, cfg.StaffAuth = "127.0.0.1:0", data, true, config.StaffAuthAccounts
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
	base := "http://" + a.Addr()
	// onServer is a printed link pointed at the test server (the token does not depend on it).
	onServer := func(link string) string {
		u, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		return base + u.RequestURI()
	}
	const password = "a long and unrelated passphrase"

	b := browsertest.New(t)
	browsertest.ScreenshotOnFailure(t, b)
	text := func(step string, sel string) string {
		t.Helper()
		if err := chromedp.Do(b, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		s, err := chromedp.Run(b, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		return s
	}
	setPassword := func(email string) {
		t.Helper()
		err := chromedp.Do(b,
			chromedp.Navigate(onServer(links[email])),
			chromedp.WaitVisible(chromedp.CSS("#password")),
			chromedp.SendKeys(chromedp.CSS("#password"), password),
			chromedp.SendKeys(chromedp.CSS("#confirm"), password),
			chromedp.Click(chromedp.CSS("#set-password")),
		)
		if err != nil {
			t.Fatalf("set %s's password: %v", email, err)
		}
		if got := text("password set", "#notice"); !strings.Contains(got, "password is set") {
			t.Fatalf("after setting the password: notice %q", got)
		}
	}
	signIn := func(email string) {
		t.Helper()
		err := chromedp.Do(b,
			chromedp.WaitVisible(chromedp.CSS("#email")),
			chromedp.SendKeys(chromedp.CSS("#email"), email),
			chromedp.SendKeys(chromedp.CSS("#password"), password),
			chromedp.Click(chromedp.CSS("#signin")),
		)
		if err != nil {
			t.Fatalf("sign in as %s: %v", email, err)
		}
	}

	// The inbox sends a stranger to the sign-in page.
	if err := chromedp.Do(b, chromedp.Navigate(base+"/inbox/")); err != nil {
		t.Fatal(err)
	}
	_ = text("sign-in page", "#email")
	if loc, err := chromedp.Run(b, chromedp.Location()); err != nil || !strings.Contains(loc, "/staff/signin?next=%2Finbox%2F") {
		t.Fatalf("location = %q, %v; want the sign-in page coming back to the inbox", loc, err)
	}

	setPassword("ann@example.com")
	signIn("ann@example.com")
	if got := text("inbox", "#agent-email"); got != "ann@example.com" {
		t.Fatalf("inbox shows %q, want ann@example.com", got)
	}
	if err := chromedp.Do(b, chromedp.Navigate(base+"/kb/")); err != nil {
		t.Fatal(err)
	}
	if got := text("editor as an agent", "#error-message"); !strings.Contains(got, "may not open this page") {
		t.Errorf("editor as an agent: %q, want refused", got)
	}
	err = chromedp.Do(b,
		chromedp.Navigate(base+"/inbox/"),
		chromedp.WaitVisible(chromedp.CSS(".whoami button")),
		chromedp.Click(chromedp.CSS(".whoami button")),
	)
	if err != nil {
		t.Fatalf("sign out: %v", err)
	}
	if got := text("signed out", "#notice"); !strings.Contains(got, "signed out") {
		t.Errorf("after sign-out: notice %q", got)
	}
	if err := chromedp.Do(b, chromedp.Navigate(base+"/inbox/")); err != nil {
		t.Fatal(err)
	}
	_ = text("inbox after sign-out asks to sign in", "#email")

	// The link worked once.
	if err := chromedp.Do(b, chromedp.Navigate(onServer(links["ann@example.com"]))); err != nil {
		t.Fatal(err)
	}
	if got := text("used link", "#error-message"); !strings.Contains(got, "already used") {
		t.Errorf("used link: %q", got)
	}

	// The admin opens the editor after signing in (sent back to it).
	setPassword("root@example.com")
	if err := chromedp.Do(b, chromedp.Navigate(base+"/kb/")); err != nil {
		t.Fatal(err)
	}
	signIn("root@example.com")
	if got := text("editor as admin", "form.filters ~ h1, h1:has(+ form.filters)"); got != "Documents" {
		t.Errorf("editor as admin: heading %q, want Documents", got)
	}
}
