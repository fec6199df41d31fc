package staff

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/storage/sqlite"
)

// testParams keep hashing cheap in tests; the encoded parameters are what verifies.
var testParams = argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

const goodPassword = "correct horse battery staple"

var secret = []byte("test-secret-0123456789-0123456789")

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type fixture struct {
	staff *Staff
	store storage.Store
	clock *clock
	// h serves /staff/ and two guarded sites: /inbox/ (agents, supervisors) and /kb/
	// (editors); each answers with the signed-in agent's email.
	h http.Handler
}

// setup returns a fixture; opts change the staff configuration.
func setup(t *testing.T, opts ...func(*Config)) *fixture {
	t.Helper()
	st, err := sqlite.Open(context.Background(), "", sqlite.Config{Migrate: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return setupOn(st, &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}, opts...)
}

// setupOn is setup on a given store and clock (replicas share both).
func setupOn(st storage.Store, c *clock, opts ...func(*Config)) *fixture {
	cfg := Config{Secret: secret, HashParams: testParams, Now: c.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range opts {
		o(&cfg)
	}
	s := New(cfg, st)
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, AgentFrom(r.Context()).Email) })
	mux := http.NewServeMux()
	mux.Handle("/staff/", s)
	mux.Handle("/inbox/", s.Require(tandem.AgentRoleAgent, tandem.AgentRoleSupervisor)(echo))
	mux.Handle("/kb/", s.Require(tandem.AgentRoleEditor)(echo))
	return &fixture{staff: s, store: st, clock: c, h: mux}
}

// addAgent creates an agent; with a password, it is set as the set-password page would.
func (f *fixture) addAgent(t *testing.T, email string, role tandem.AgentRole, password string) *tandem.Agent {
	t.Helper()
	ctx := context.Background()
	a := &tandem.Agent{Name: email, Email: email, Role: role}
	if err := f.store.CreateAgent(ctx, a); err != nil {
		t.Fatal(err)
	}
	if password != "" {
		h, err := HashPassword(password, testParams)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.SetAgentPassword(ctx, a.ID, "", h, f.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

func (f *fixture) do(t *testing.T, method, target string, form url.Values, cookie *http.Cookie) *httptest.ResponseRecorder {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, target, body)
	r.RemoteAddr = "192.0.2.1:1234"
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != nil {
		r.AddCookie(cookie)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

// signIn posts the sign-in form and returns the response and the session cookie (or nil).
func (f *fixture) signIn(t *testing.T, email, password string) (*httptest.ResponseRecorder, *http.Cookie) {
	t.Helper()
	w := f.do(t, http.MethodPost, SignInPath, url.Values{"email": {email}, "password": {password}}, nil)
	for _, c := range w.Result().Cookies() {
		if c.Name == CookieName && c.Value != "" {
			return w, c
		}
	}
	return w, nil
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"OKZero", Config{}, true},
		{"OKTestParams", Config{HashParams: testParams}, true},
		{"ErrNegativeTTL", Config{SessionTTL: -time.Second}, false},
		{"ErrWeakParams", Config{HashParams: argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 4, KeyLength: 32}}, false},
	}
	for _, tt := range tests {
		if err := tt.cfg.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

func TestCheckPasswordRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		password string
		ok       bool
	}{
		{"OK", goodPassword, true},
		{"OKMinimum", strings.Repeat("a", MinPasswordLen), true},
		{"OKMaximum", strings.Repeat("a", MaxPasswordLen), true},
		{"OKMultibyteCountsCharacters", strings.Repeat("é", MinPasswordLen), true},
		{"ErrEmpty", "", false},
		{"ErrShort", strings.Repeat("a", MinPasswordLen-1), false},
		{"ErrLong", strings.Repeat("a", MaxPasswordLen+1), false},
		{"ErrNotText", "\xff\xfe" + goodPassword, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := CheckPasswordRules(tt.password)
			if got := err == nil; got != tt.ok {
				t.Fatalf("CheckPasswordRules = %v, want ok %v", err, tt.ok)
			}
			if err != nil && (tandem.ErrorCode(err) != tandem.EINVALID || tandem.ErrorMessage(err) == "") {
				t.Errorf("err = %v, want EINVALID with a message", err)
			}
		})
	}
}

func TestHashPassword(t *testing.T) {
	t.Parallel()
	h, err := HashPassword(goodPassword, testParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash = %q, want a PHC string with its parameters", h)
	}
	other, err := HashPassword(goodPassword, DefaultHashParams)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		password string
		hash     string
		want     bool
	}{
		{"OK", goodPassword, h, true},
		{"OKOtherParameters", goodPassword, other, true},
		{"ErrWrong", goodPassword + "!", h, false},
		{"ErrEmptyPassword", "", h, false},
		{"ErrNoHash", goodPassword, "", false},
		{"ErrGarbledHash", goodPassword, "$argon2id$v=19$m=64", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := checkPassword(tt.password, tt.hash); got != tt.want {
				t.Errorf("checkPassword = %v, want %v", got, tt.want)
			}
		})
	}
	if h2, _ := HashPassword(goodPassword, testParams); h2 == h {
		t.Error("two hashes of one password are equal: no salt")
	}
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	tests := []struct{ next, want string }{
		{"/inbox/tickets/t1?x=1", "/inbox/tickets/t1?x=1"},
		{"/kb/", "/kb/"},
		{"", ""},
		{"inbox/", ""},
		{"//evil.example/", ""},
		{"/\\evil.example/", ""},
		{"https://evil.example/", ""},
		{"/inbox/\r\nSet-Cookie: x=1", ""},
		{"/inbox/\t", ""},
		{"/" + strings.Repeat("a", 3000), ""},
	}
	for _, tt := range tests {
		if got := safeNext(tt.next); got != tt.want {
			t.Errorf("safeNext(%q) = %q, want %q", tt.next, got, tt.want)
		}
	}
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		email      string
		password   string
		wantStatus int
		wantAudit  string
	}{
		{"OK", "ann@example.com", goodPassword, http.StatusSeeOther, ActionSignIn},
		{"OKEmailCase", " Ann@Example.com ", goodPassword, http.StatusSeeOther, ActionSignIn},
		{"ErrWrongPassword", "ann@example.com", goodPassword + "x", http.StatusUnauthorized, ActionSignInFailed},
		{"ErrEmptyPassword", "ann@example.com", "", http.StatusUnauthorized, ActionSignInFailed},
		{"ErrOversizedPassword", "ann@example.com", goodPassword + strings.Repeat("x", 2000), http.StatusUnauthorized, ActionSignInFailed},
		{"ErrUnknownEmail", "nobody@example.com", goodPassword, http.StatusUnauthorized, ActionSignInFailed},
		{"ErrNoPasswordYet", "new@example.com", "", http.StatusUnauthorized, ActionSignInFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.addAgent(t, "ann@example.com", tandem.AgentRoleAgent, goodPassword)
			f.addAgent(t, "new@example.com", tandem.AgentRoleAgent, "")
			w, cookie := f.signIn(t, tt.email, tt.password)
			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tt.wantStatus, w.Body)
			}
			if (cookie != nil) != (tt.wantStatus == http.StatusSeeOther) {
				t.Errorf("session cookie = %v, want one only on success", cookie)
			}
			if cookie != nil && (!cookie.HttpOnly || cookie.Path != "/" || cookie.SameSite != http.SameSiteLaxMode || cookie.Expires.IsZero()) {
				t.Errorf("cookie = %+v, want HttpOnly, path /, SameSite Lax, an expiry", cookie)
			}
			if w.Code == http.StatusUnauthorized && !strings.Contains(w.Body.String(), "email or password is not right") {
				t.Errorf("body does not say the one failure message: %s", w.Body)
			}
			audit, err := f.store.ListAudit(context.Background(), storage.AuditFilter{Action: tt.wantAudit})
			if err != nil || len(audit) != 1 {
				t.Fatalf("audit %s = %+v, %v; want one entry", tt.wantAudit, audit, err)
			}
			for k, v := range audit[0].Detail {
				if tt.password != "" && strings.Contains(v, tt.password) {
					t.Errorf("audit detail %s holds the password", k)
				}
			}
		})
	}
}

func TestSignInRateLimit(t *testing.T) {
	t.Parallel()
	t.Run("ErrPerEmail", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		f.addAgent(t, "ann@example.com", tandem.AgentRoleAgent, goodPassword)
		for i := range 5 {
			if w, _ := f.signIn(t, "ann@example.com", "wrong password "+string(rune('a'+i))); w.Code != http.StatusUnauthorized {
				t.Fatalf("attempt %d: status %d, want 401", i, w.Code)
			}
		}
		// Even the right password is refused until the bucket refills.
		w, cookie := f.signIn(t, "ANN@example.com", goodPassword)
		if w.Code != http.StatusTooManyRequests || cookie != nil || w.Header().Get("Retry-After") == "" {
			t.Fatalf("6th attempt: status %d, cookie %v; want 429 with Retry-After", w.Code, cookie)
		}
		// Another email from the same client is still let in.
		f.addAgent(t, "bob@example.com", tandem.AgentRoleAgent, goodPassword)
		if w, _ := f.signIn(t, "bob@example.com", goodPassword); w.Code != http.StatusSeeOther {
			t.Errorf("other email: status %d, want 303", w.Code)
		}
		f.clock.Add(time.Hour)
		if w, _ := f.signIn(t, "ann@example.com", goodPassword); w.Code != http.StatusSeeOther {
			t.Errorf("an hour later: status %d, want 303", w.Code)
		}
	})
	t.Run("ErrPerClient", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		for i := range 20 {
			if w, _ := f.signIn(t, "user"+string(rune('a'+i))+"@example.com", goodPassword); w.Code != http.StatusUnauthorized {
				t.Fatalf("attempt %d: status %d, want 401", i, w.Code)
			}
		}
		if w, _ := f.signIn(t, "other@example.com", goodPassword); w.Code != http.StatusTooManyRequests {
			t.Fatalf("21st attempt from one client: status %d, want 429", w.Code)
		}
	})
}
