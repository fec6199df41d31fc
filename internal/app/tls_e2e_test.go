package app_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"

	"github.com/tandemhq/tandem/connectors/webchat"
	"github.com/tandemhq/tandem/internal/app"
	"github.com/tandemhq/tandem/internal/browsertest"
	"github.com/tandemhq/tandem/internal/config"
)

// startTLS runs the demo app over HTTPS with a fresh self-signed certificate and returns
// its https:// base URL and a client that trusts the certificate.
func startTLS(t *testing.T) (string, *http.Client) {
	t.Helper()
	dir := t.TempDir()
	cert := app.WriteTestCert(t, dir, "tandem-test")
	_, base := startApp(t, "", func(c *config.Config) {
		c.TLSCertFile, c.TLSKeyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	})
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots},
		ForceAttemptHTTP2: true,
	}}
	return "https://" + strings.TrimPrefix(base, "http://"), client
}

// TestServeTLS: with a certificate configured the server speaks HTTPS and HTTP/2, so an
// agent's many inbox streams share one connection; the web chat's socket works over TLS;
// plain HTTP to the TLS port gets an error, not a hang.
func TestServeTLS(t *testing.T) {
	t.Parallel()
	base, client := startTLS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	res, err := client.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.ProtoMajor != 2 {
		t.Fatalf("GET /healthz over TLS: %d %s, want 200 over HTTP/2", res.StatusCode, res.Proto)
	}

	res, err = client.PostForm(base+"/inbox/signin", url.Values{"email": {"ann@example.com"}, "next": {"/inbox/"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	// More streams than the six HTTP/1.1 connections a browser opens per host.
	const tabs = 8
	streams := make([]*eventStream, tabs)
	for i := range streams {
		streams[i] = openEvents(t, client, base+"/inbox/events")
	}
	t.Cleanup(func() {
		for _, s := range streams {
			s.body.Close()
		}
	})

	ws := "wss" + strings.TrimPrefix(base, "https") + webchat.Path + "?bot=demo"
	conn, _, err := websocket.Dial(ctx, ws, &websocket.DialOptions{HTTPClient: &http.Client{Transport: client.Transport}})
	if err != nil {
		t.Fatalf("web chat over TLS: %v", err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	chat := &chatSocket{conn: conn, ctx: ctx}
	chat.next(t, "transcript")
	chat.say(t, "c-1", "I want to talk to a human")
	for i, s := range streams {
		if e := s.next(t); e.Kind == "" {
			t.Errorf("stream %d: empty event", i)
		}
	}

	plain := "http://" + strings.TrimPrefix(base, "https://") + "/healthz"
	res, err = http.Get(plain)
	if err != nil {
		t.Fatalf("plain HTTP to the TLS port: %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("plain HTTP to the TLS port: %d %s, want 400", res.StatusCode, b)
	}
}

// TestServeTLSMissingCert: a configured certificate that cannot be read stops the server at
// start with the file's name.
func TestServeTLSMissingCert(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir, cfg.Demo = t.TempDir(), true
	cfg.TLSCertFile, cfg.TLSKeyFile = "/nonexistent/cert.pem", "/nonexistent/key.pem"
	a, err := app.New(context.Background(), cfg, nil)
	if err == nil {
		a.Close()
		t.Fatal("app.New with a missing certificate: no error")
	}
	if !strings.Contains(err.Error(), "/nonexistent/cert.pem") {
		t.Errorf("error %q does not name the certificate file", err)
	}
}

// TestInboxTabsBrowserTLS: in real Chromium over HTTPS the pages are served over HTTP/2,
// and seven inbox tabs — more than the six connections HTTP/1.1 allows per host, each tab
// holding an event stream — all show a new ticket live, as does the web chat over wss.
func TestInboxTabsBrowserTLS(t *testing.T) {
	t.Parallel()
	base, _ := startTLS(t)
	chat := browsertest.New(t, chromedp.Flag("ignore-certificate-errors", true))
	browsertest.ScreenshotOnFailure(t, chat)

	const tabs = 7
	inbox := make([]context.Context, tabs)
	for i := range inbox {
		tab, cancel := chromedp.NewContext(chat)
		t.Cleanup(cancel)
		inbox[i] = tab
		actions := []chromedp.Action[chromedp.Void]{chromedp.Navigate(base + "/inbox/")}
		if i == 0 {
			actions = append(actions,
				chromedp.WaitVisible(chromedp.ID("email")),
				chromedp.SendKeys(chromedp.ID("email"), "ann@example.com"),
				chromedp.Click(chromedp.ID("signin")))
		}
		actions = append(actions, chromedp.WaitVisible(chromedp.CSS(`body[data-stream="on"]`)))
		if err := chromedp.Do(tab, actions...); err != nil {
			t.Fatalf("inbox tab %d: %v", i, err)
		}
	}
	proto, err := chromedp.Run(inbox[tabs-1], chromedp.Evaluate[string](`performance.getEntriesByType("navigation")[0].nextHopProtocol`))
	if err != nil || proto != "h2" {
		t.Errorf("inbox page protocol = %q (%v), want h2", proto, err)
	}

	err = chromedp.Do(chat,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("message")),
		chromedp.SendKeys(chromedp.ID("message"), "I want to talk to a human"),
		chromedp.Click(chromedp.ID("send")),
		chromedp.WaitVisible(chromedp.CSS(".msg-system")),
	)
	if err != nil {
		t.Fatalf("web chat over HTTPS: %v", err)
	}
	for i, tab := range inbox {
		if err := chromedp.Do(tab, chromedp.WaitVisible(chromedp.CSS("a.ticket-link"))); err != nil {
			t.Fatalf("inbox tab %d did not show the new ticket live: %v", i, err)
		}
	}
}
