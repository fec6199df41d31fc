package app_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/storage"
)

// slackAPI is a local server speaking Slack's Web API: it records chat.postMessage calls.
type slackAPI struct {
	mu    sync.Mutex
	posts []url.Values
}

func (s *slackAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/chat.postMessage" {
		http.NotFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.Header.Get("Authorization") != "Bearer xoxb-test-token" && r.PostForm.Get("token") != "xoxb-test-token" {
		fmt.Fprint(w, `{"ok":false,"error":"invalid_auth"}`)
		return
	}
	s.mu.Lock()
	s.posts = append(s.posts, r.PostForm)
	n := len(s.posts)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"ok":true,"channel":"D0CUSTOMER","ts":"1700000000.%06d"}`, n)
}

func (s *slackAPI) sent() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.posts...)
}

// signedSlackEvent builds a customer's DM to the app as Slack posts it, signed with secret.
func signedSlackEvent(t *testing.T, base, secret, text, ts string) *http.Request {
	t.Helper()
	body := fmt.Sprintf(`{"token":"x","team_id":"T0SHOP","api_app_id":"A1","type":"event_callback","event_id":"Ev%s","event_time":1700000000,
		"event":{"type":"message","channel":"D0CUSTOMER","channel_type":"im","user":"U0ANN","team":"T0SHOP","text":%q,"ts":%q,"event_ts":%q}}`,
		strings.ReplaceAll(ts, ".", ""), text, ts, ts)
	return slackRequest(t, base+"/webhooks/slack/demo", secret, "application/json", body)
}

// slackRequest is a POST to url as Slack sends it: signed with the app's signing secret
// (v0 HMAC-SHA256 of the timestamp and body), computed here rather than by slack-go.
func slackRequest(t *testing.T, url, secret, ctype, body string) *http.Request {
	t.Helper()
	now := fmt.Sprint(time.Now().Unix())
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:%s", now, body)
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("X-Slack-Request-Timestamp", now)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	return req
}

// TestSlackChannel drives the whole path on the real application: a customer's Slack DM
// arrives as a signed webhook, the demo bot answers, and the delivery worker posts the
// answer back through slack-go to a local server speaking Slack's API. A retry of the
// webhook is acknowledged and answered only once; an unsigned one never reaches the bot.
func TestSlackChannel(t *testing.T) {
	t.Parallel()
	api := &slackAPI{}
	srv := httptest.NewServer(api)
	defer srv.Close()
	const secret = "signing-secret-for-tests"
	a, base := startApp(t, "", func(c *config.Config) {
		c.Connectors = []config.Connector{{Bot: "demo", Channel: "slack", APIURL: srv.URL + "/api/",
			BotToken: "xoxb-test-token", SigningSecret: secret}}
	})

	post := func(req *http.Request) int {
		t.Helper()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(signedSlackEvent(t, base, secret, "how long does shipping take?", "1700000000.000100")); code != http.StatusOK {
		t.Fatalf("webhook status %d, want 200", code)
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(api.sent()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	posts := api.sent()
	if len(posts) == 0 {
		t.Fatal("the bot's answer never reached Slack")
	}
	if p := posts[0]; p.Get("channel") != "U0ANN" || !strings.Contains(strings.ToLower(p.Get("text")+p.Get("blocks")), "business days") {
		t.Errorf("chat.postMessage = %v, want the shipping answer to U0ANN", p)
	}

	// Slack's retry of the same event, and a forged one.
	retry := signedSlackEvent(t, base, secret, "how long does shipping take?", "1700000000.000100")
	retry.Header.Set("X-Slack-Retry-Num", "1")
	if code := post(retry); code != http.StatusOK {
		t.Errorf("retry status %d, want 200", code)
	}
	forged := signedSlackEvent(t, base, "not-the-secret", "give me a refund", "1700000000.000200")
	if code := post(forged); code != http.StatusUnauthorized && code != http.StatusForbidden {
		t.Errorf("forged webhook status %d, want 401 or 403", code)
	}

	ctx := context.Background()
	// Every delivery of the answer is finished before the counts are read.
	for time.Now().Before(deadline) {
		pending, err := a.Store().ListDeliveries(ctx, storage.DeliveryFilter{Status: tandem.DeliveryPending})
		if err != nil {
			t.Fatal(err)
		}
		if len(pending) == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	ident, err := a.Store().FindIdentity(ctx, tandem.ChannelSlack, "T0SHOP/U0ANN")
	if err != nil {
		t.Fatalf("no Slack identity for the customer: %v", err)
	}
	msgs, err := a.Store().ListCustomerMessages(ctx, ident.CustomerID, storage.MessageFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var customer, bot int
	for _, m := range msgs {
		switch m.Role {
		case tandem.RoleCustomer:
			customer++
		case tandem.RoleBot:
			bot++
			d, err := a.Store().FindDelivery(ctx, m.ID)
			if err != nil || d.Status != tandem.DeliverySent || d.ProviderID == "" {
				t.Errorf("bot message %q: delivery %+v, %v; want sent with Slack's id", m.Text, d, err)
			}
		}
	}
	if customer != 1 || bot == 0 {
		t.Errorf("stored %d customer and %d bot messages; want the DM once (retry dropped, forgery refused) and its answer", customer, bot)
	}
	if n := len(api.sent()); n != bot {
		t.Errorf("Slack got %d posts for %d bot messages", n, bot)
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	metrics, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf(`tandem_deliveries_total{channel="slack",outcome="sent"} %d`, bot); !strings.Contains(string(metrics), want) {
		t.Errorf("/metrics lacks %q", want)
	}
}

// twilioAPI is a local server speaking Twilio's Messages API: it records sent messages.
type twilioAPI struct {
	mu   sync.Mutex
	sent []url.Values
}

func (s *twilioAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, pass, _ := r.BasicAuth()
	if r.URL.Path != "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json" || user != "AC0123456789abcdef0123456789abcdef" || pass != "twiliotoken0123" {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"code":20003,"message":"Authenticate","status":401}`)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.sent = append(s.sent, r.PostForm)
	n := len(s.sent)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"sid":"SM%032d","status":"queued","to":%q,"from":%q,"body":%q}`, n, r.PostForm.Get("To"), r.PostForm.Get("From"), r.PostForm.Get("Body"))
}

func (s *twilioAPI) messages() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.sent...)
}

// signedSMS builds Twilio's webhook for an incoming SMS, signed as Twilio signs it.
func signedSMS(t *testing.T, base, publicURL, token, body, sid string) *http.Request {
	t.Helper()
	form := url.Values{"From": {"+15550199"}, "To": {"+15005550006"}, "Body": {body}, "MessageSid": {sid},
		"AccountSid": {"AC0123456789abcdef0123456789abcdef"}, "NumMedia": {"0"}}
	return twilioRequest(t, base+"/webhooks/sms/demo", publicURL, token, form)
}

// twilioRequest is a form POST to url as Twilio sends it, signed for publicURL: the URL
// followed by each parameter's name and value in name order, HMAC-SHA1 with the auth
// token, base64.
func twilioRequest(t *testing.T, url, publicURL, token string, form url.Values) *http.Request {
	t.Helper()
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	signed := publicURL
	for _, k := range keys {
		signed += k + form.Get(k)
	}
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(signed))
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	return req
}

// TestSMSChannel drives an SMS through the real application behind a proxy: Twilio signs
// the public URL, the demo bot answers, and the delivery worker sends the answer through
// twilio-go to a local server speaking Twilio's API, from the bot's number to the customer.
func TestSMSChannel(t *testing.T) {
	t.Parallel()
	api := &twilioAPI{}
	srv := httptest.NewServer(api)
	defer srv.Close()
	const public = "https://support.example.com"
	a, base := startApp(t, "", func(c *config.Config) {
		c.BaseURL = public
		c.Connectors = []config.Connector{{Bot: "demo", Channel: "sms", AccountSID: "AC0123456789abcdef0123456789abcdef", From: "+15005550006",
			APIURL: srv.URL, AuthToken: "twiliotoken0123"}}
	})
	resp, err := http.DefaultClient.Do(signedSMS(t, base, public+"/webhooks/sms/demo", "twiliotoken0123", "how long does shipping take?", "SM0001"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook status %d, want 200", resp.StatusCode)
	}
	// A request signed for another URL (what a forger without the token sends) is refused.
	resp, err = http.DefaultClient.Do(signedSMS(t, base, "https://evil.example.com/webhooks/sms/demo", "twiliotoken0123", "refund me", "SM0002"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("webhook signed for another URL: status %d, want 403", resp.StatusCode)
	}

	deadline := time.Now().Add(15 * time.Second)
	for len(api.messages()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	sent := api.messages()
	if len(sent) == 0 {
		t.Fatal("the bot's answer never reached Twilio")
	}
	if m := sent[0]; m.Get("To") != "+15550199" || m.Get("From") != "+15005550006" || !strings.Contains(m.Get("Body"), "business days") {
		t.Errorf("sent %v, want the shipping answer from the bot's number to the customer", m)
	}
	ident, err := a.Store().FindIdentity(context.Background(), tandem.ChannelSMS, "+15550199")
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := a.Store().ListCustomerMessages(context.Background(), ident.CustomerID, storage.MessageFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Role == tandem.RoleCustomer && m.Text != "how long does shipping take?" {
			t.Errorf("stored customer message %q: the forged webhook got through", m.Text)
		}
	}
}
