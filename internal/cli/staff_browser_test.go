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
	"github.com/tandemhq/tandem/web/staff"
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

	base := startAccountsServer(t, env, data)
	b := browsertest.New(t)
	browsertest.ScreenshotOnFailure(t, b)
	sb := staffBrowser{t: t, b: b, base: base}

	// The inbox sends a stranger to the sign-in page.
	if err := chromedp.Do(b, chromedp.Navigate(base+"/inbox/")); err != nil {
		t.Fatal(err)
	}
	_ = sb.text("sign-in page", "#email")
	if loc, err := chromedp.Run(b, chromedp.Location()); err != nil || !strings.Contains(loc, "/staff/signin?next=%2Finbox%2F") {
		t.Fatalf("location = %q, %v; want the sign-in page coming back to the inbox", loc, err)
	}

	sb.setPassword(links["ann@example.com"])
	sb.signIn("ann@example.com")
	if got := sb.text("inbox", "#agent-email"); got != "ann@example.com" {
		t.Fatalf("inbox shows %q, want ann@example.com", got)
	}
	if err := chromedp.Do(b, chromedp.Navigate(base+"/kb/")); err != nil {
		t.Fatal(err)
	}
	if got := sb.text("editor as an agent", "#error-message"); !strings.Contains(got, "may not open this page") {
		t.Errorf("editor as an agent: %q, want refused", got)
	}
	err := chromedp.Do(b,
		chromedp.Navigate(base+"/inbox/"),
		chromedp.WaitVisible(chromedp.CSS(".whoami button")),
		chromedp.Click(chromedp.CSS(".whoami button")),
	)
	if err != nil {
		t.Fatalf("sign out: %v", err)
	}
	if got := sb.text("signed out", "#notice"); !strings.Contains(got, "signed out") {
		t.Errorf("after sign-out: notice %q", got)
	}
	if err := chromedp.Do(b, chromedp.Navigate(base+"/inbox/")); err != nil {
		t.Fatal(err)
	}
	_ = sb.text("inbox after sign-out asks to sign in", "#email")

	// The link worked once.
	if err := chromedp.Do(b, chromedp.Navigate(sb.onServer(links["ann@example.com"]))); err != nil {
		t.Fatal(err)
	}
	if got := sb.text("used link", "#error-message"); !strings.Contains(got, "already used") {
		t.Errorf("used link: %q", got)
	}

	// The admin opens the editor after signing in (sent back to it).
	sb.setPassword(links["root@example.com"])
	if err := chromedp.Do(b, chromedp.Navigate(base+"/kb/")); err != nil {
		t.Fatal(err)
	}
	sb.signIn("root@example.com")
	if got := sb.text("editor as admin", "form.filters ~ h1, h1:has(+ form.filters)"); got != "Documents" {
		t.Errorf("editor as admin: heading %q, want Documents", got)
	}
}

// TestStaffAdminBrowser drives the admin page in headless Chromium: an admin (made with
// tandem users add) adds a staff member, sees their one-time set-password link, which
// opens, and sets the new agent's capacity.
func TestStaffAdminBrowser(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	env := map[string]string{"TANDEM_SESSION_SECRET": testSessionSecret, "TANDEM_BASE_URL": "http://placeholder.invalid"}
	code, out, stderr := runWithEnv(t, env, "users", "add", "--data-dir", data, "root@example.com", "--role", "admin")
	if code != 0 {
		t.Fatalf("users add: %d %s", code, stderr)
	}
	base := startAccountsServer(t, env, data)
	b := browsertest.New(t)
	browsertest.ScreenshotOnFailure(t, b)
	sb := staffBrowser{t: t, b: b, base: base}

	sb.setPassword(linkIn(t, out))
	if err := chromedp.Do(b, chromedp.Navigate(base+staff.AdminPath)); err != nil {
		t.Fatal(err)
	}
	sb.signIn("root@example.com")
	err := chromedp.Do(b,
		chromedp.WaitVisible(chromedp.CSS("#new-email")),
		chromedp.SendKeys(chromedp.CSS("#new-email"), "bob@example.com"),
		chromedp.SendKeys(chromedp.CSS("#new-name"), "Bob"),
		chromedp.SetValue(chromedp.CSS("#new-role"), "supervisor"),
		chromedp.Click(chromedp.CSS("#add")),
	)
	if err != nil {
		t.Fatalf("add bob: %v", err)
	}
	if got := sb.text("link shown", "#link-email"); got != "bob@example.com" {
		t.Fatalf("link for %q, want bob@example.com", got)
	}
	link, err := chromedp.Run(b, chromedp.Value(chromedp.CSS("#password-link")))
	if err != nil || !strings.HasPrefix(link, "http://placeholder.invalid"+staff.PasswordPath+"?token=") {
		t.Fatalf("link = %q, %v", link, err)
	}
	row := `tr[data-email="bob@example.com"] `
	if got := sb.text("bob listed", row+"td.password"); got != "not set" {
		t.Errorf("bob's password: %q, want not set", got)
	}

	err = chromedp.Do(b,
		chromedp.SetValue(chromedp.CSS(row+`input[name="capacity"]`), "5"),
		chromedp.Click(chromedp.CSS(row+"button.save")),
		// The saved page shows no link: so the page after the redirect is the one read.
		chromedp.WaitNotPresent(chromedp.CSS("#password-link-box")),
	)
	if err != nil {
		t.Fatalf("set capacity: %v", err)
	}
	if got := sb.text("saved", "#notice"); got != "Saved." {
		t.Errorf("after saving: notice %q", got)
	}
	capacity, err := chromedp.Run(b, chromedp.Value(chromedp.CSS(row+`input[name="capacity"]`)))
	if err != nil || capacity != "5" {
		t.Errorf("bob's capacity after saving = %q, %v; want 5", capacity, err)
	}
	role, err := chromedp.Run(b, chromedp.Value(chromedp.CSS(row+`select[name="role"]`)))
	if err != nil || role != "supervisor" {
		t.Errorf("bob's role = %q, %v; want supervisor", role, err)
	}

	// The link shown works: it opens bob's set-password page.
	if err := chromedp.Do(b, chromedp.Navigate(sb.onServer(link))); err != nil {
		t.Fatal(err)
	}
	if got := sb.text("bob's link", "#password-email"); got != "bob@example.com" {
		t.Errorf("link opens the page of %q, want bob@example.com", got)
	}
}

// startAccountsServer starts the demo server with staff accounts over the data directory
// data, configured from env, and returns its base URL.
func startAccountsServer(t *testing.T, env map[string]string, data string) string {
	t.Helper()
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
		cancel()
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
	return "http://" + a.Addr()
}

// staffBrowser holds the steps the staff browser tests share.
type staffBrowser struct {
	t    *testing.T
	b    context.Context
	base string
}

const staffPassword = "a long and unrelated passphrase"

// onServer is a printed link pointed at the test server (the token does not depend on it).
func (sb staffBrowser) onServer(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		sb.t.Fatal(err)
	}
	return sb.base + u.RequestURI()
}

// text waits for sel and returns its text.
func (sb staffBrowser) text(step string, sel string) string {
	sb.t.Helper()
	if err := chromedp.Do(sb.b, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		sb.t.Fatalf("%s: %v", step, err)
	}
	s, err := chromedp.Run(sb.b, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		sb.t.Fatalf("%s: %v", step, err)
	}
	return s
}

// setPassword opens a set-password link and sets staffPassword.
func (sb staffBrowser) setPassword(link string) {
	sb.t.Helper()
	err := chromedp.Do(sb.b,
		chromedp.Navigate(sb.onServer(link)),
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#password"), staffPassword),
		chromedp.SendKeys(chromedp.CSS("#confirm"), staffPassword),
		chromedp.Click(chromedp.CSS("#set-password")),
	)
	if err != nil {
		sb.t.Fatalf("set password: %v", err)
	}
	if got := sb.text("password set", "#notice"); !strings.Contains(got, "password is set") {
		sb.t.Fatalf("after setting the password: notice %q", got)
	}
}

// signIn fills the sign-in form on the current page.
func (sb staffBrowser) signIn(email string) {
	sb.t.Helper()
	err := chromedp.Do(sb.b,
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), staffPassword),
		chromedp.Click(chromedp.CSS("#signin")),
	)
	if err != nil {
		sb.t.Fatalf("sign in as %s: %v", email, err)
	}
}
