package app_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/app"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/storage"
)

// TestMain lets this test binary also be the server that TestKilledServerLosesNothing
// kills: with TANDEM_CRASH_CHILD=1 it runs `tandem serve` on the configuration file in
// TANDEM_CRASH_CONFIG and prints the address it listens on.
func TestMain(m *testing.M) {
	if os.Getenv("TANDEM_CRASH_CHILD") == "1" {
		os.Exit(serveChild())
	}
	os.Exit(m.Run())
}

func serveChild() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	cfg, err := config.Load(os.Getenv("TANDEM_CRASH_CONFIG"), os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	a, err := app.New(ctx, cfg, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer a.Close()
	if err := a.Listen(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("ADDR %s\n", a.Addr())
	if err := a.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// server is a `tandem serve` process.
type server struct {
	cmd  *exec.Cmd
	base string
	logs *bytes.Buffer
}

func spawnServer(t *testing.T, configPath string, env []string) *server {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), "TANDEM_CRASH_CHILD=1", "TANDEM_CRASH_CONFIG="+configPath), env...)
	logs := &bytes.Buffer{}
	cmd.Stderr = logs
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, logs: logs}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", logs)
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "ADDR "); ok {
				addr <- a
			}
		}
		close(addr)
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			_ = cmd.Wait()
			t.Fatalf("server exited before listening:\n%s", logs)
		}
		s.base = "http://" + a
	case <-time.After(60 * time.Second):
		t.Fatalf("server did not start:\n%s", logs)
	}
	return s
}

// slowSlack is Slack's Web API taking a while to answer, so that sends are in flight when
// the server is killed. A post whose caller was killed still counts: Slack posted it.
type slowSlack struct{ api *slackAPI }

func (s slowSlack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	time.Sleep(150 * time.Millisecond)
	s.api.ServeHTTP(w, r)
}

// TestKilledServerLosesNothing kills a server (SIGKILL) while customers' Slack messages
// arrive and its replies are being sent, starts another on the same store, and lets Slack
// retry what it saw fail. It checks what README promises: a message whose webhook was
// acknowledged is stored and answered; one whose webhook failed is answered after the
// provider's retry; a retry of a stored message is dropped (one stored message, one turn);
// every reply reaches the customer, at most once more than it should (the send in flight
// when the process died, recorded by nobody: delivery is at least once). On both stores.
func TestKilledServerLosesNothing(t *testing.T) {
	t.Parallel()
	for name, dsn := range storeDSNs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			killAndRestart(t, dsn(t))
		})
	}
}

func killAndRestart(t *testing.T, dsn string) {
	api := &slackAPI{}
	slack := httptest.NewServer(slowSlack{api})
	defer slack.Close()
	const secret = "signing-secret-for-tests"
	dir := t.TempDir()
	yaml := fmt.Sprintf(`addr: 127.0.0.1:0
data_dir: %s
database_url: %q
demo: true
connectors:
  - {bot: demo, channel: slack, api_url: %q}
delivery: {poll: 50ms, send_timeout: 2s, lease: 3s}
`, dir, dsn, slack.URL+"/api/")
	if dsn == "" {
		yaml = strings.Replace(yaml, "database_url: \"\"\n", "", 1)
	}
	path := filepath.Join(dir, "tandem.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"TANDEM_SLACK_BOT_TOKEN=xoxb-test-token", "TANDEM_SLACK_SIGNING_SECRET=" + secret,
		"TANDEM_SESSION_SECRET=" + strings.Repeat("s", 32)}

	const customers = 40
	const killAfter = 12 // acknowledged messages before the kill
	user := func(i int) string { return fmt.Sprintf("U%04d", i) }
	event := func(base string, i int) *http.Request {
		ts := fmt.Sprintf("1700000000.%06d", i)
		body := fmt.Sprintf(`{"token":"x","team_id":"T0SHOP","api_app_id":"A1","type":"event_callback","event_id":"Ev%06d","event_time":1700000000,
			"event":{"type":"message","channel":"D%04d","channel_type":"im","user":%q,"team":"T0SHOP","text":"how long does shipping take?","ts":%q,"event_ts":%q}}`,
			i, i, user(i), ts, ts)
		return slackRequest(t, base+"/webhooks/slack/demo", secret, "application/json", body)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	deliver := func(req *http.Request) bool {
		res, err := client.Do(req)
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}

	first := spawnServer(t, path, env)
	acked := make([]bool, customers)
	var nacked atomic.Int32
	var killOnce sync.Once
	var wg sync.WaitGroup
	next := make(chan int)
	for range 4 { // Slack sends concurrently
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if deliver(event(first.base, i)) {
					acked[i] = true
					if nacked.Add(1) >= killAfter {
						killOnce.Do(func() { _ = first.cmd.Process.Signal(syscall.SIGKILL) })
					}
				}
			}
		}()
	}
	for i := range customers {
		next <- i
	}
	close(next)
	wg.Wait()
	_ = first.cmd.Wait()
	got := int(nacked.Load())
	if got < killAfter || got == customers {
		t.Fatalf("%d of %d webhooks acknowledged around the kill; the test needs some before and some after", got, customers)
	}

	// Slack retries what failed; it is also told to retry everything else once, as it does
	// when an acknowledgement is lost, to show a stored message is not handled twice.
	second := spawnServer(t, path, env)
	for i := range customers {
		req := event(second.base, i)
		if acked[i] {
			req.Header.Set("X-Slack-Retry-Num", "1")
		}
		if !deliver(req) {
			t.Fatalf("message %d not acknowledged by the restarted server", i)
		}
	}

	perUser := func() map[string]int {
		n := map[string]int{}
		for _, p := range api.sent() {
			n[p.Get("channel")]++
		}
		return n
	}
	cfg, err := config.Load(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	store, err := app.OpenStore(ctx, cfg, nil) // beside the server, as another replica would
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	pending := func() int {
		ds, err := store.ListDeliveries(ctx, storage.DeliveryFilter{Status: tandem.DeliveryPending})
		if err != nil {
			t.Fatal(err)
		}
		return len(ds)
	}
	deadline := time.Now().Add(90 * time.Second)
	for (len(perUser()) < customers || pending() > 0) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(perUser()); n < customers {
		t.Fatalf("%d of %d customers got an answer", n, customers)
	}
	replies := -1
	dupes := 0
	posted := perUser()
	for i := range customers {
		id, err := store.FindIdentity(ctx, tandem.ChannelSlack, "T0SHOP/"+user(i))
		if err != nil {
			t.Fatalf("customer %d (acknowledged before the kill: %v): %v", i, acked[i], err)
		}
		msgs, err := store.ListCustomerMessages(ctx, id.CustomerID, storage.MessageFilter{})
		if err != nil {
			t.Fatal(err)
		}
		in, out := 0, 0
		for _, m := range msgs {
			if m.Role == tandem.RoleCustomer {
				in++
			} else {
				out++
			}
		}
		if in != 1 {
			t.Errorf("customer %d: %d stored messages, want 1 (retries dropped)", i, in)
		}
		if replies == -1 {
			replies = out
		}
		if out != replies || out == 0 {
			t.Errorf("customer %d: %d stored replies, want %d like every other (one turn per message)", i, out, replies)
		}
		switch p := posted[user(i)]; {
		case p < out:
			t.Errorf("customer %d: %d of %d replies reached Slack", i, p, out)
		case p > out+1:
			t.Errorf("customer %d: %d posts for %d replies; one kill repeats a send at most once", i, p, out)
		case p == out+1:
			dupes++
		}
	}
	for _, st := range []tandem.DeliveryStatus{tandem.DeliveryPending, tandem.DeliveryFailed} {
		ds, err := store.ListDeliveries(ctx, storage.DeliveryFilter{Status: st})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 0 {
			t.Errorf("%d deliveries %s after the restart, want 0", len(ds), st)
		}
	}
	t.Logf("%d of %d webhooks acknowledged before the kill; %d sends repeated after it", got, customers, dupes)
}
