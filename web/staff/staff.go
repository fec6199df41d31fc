// Package staff signs staff in to Tandem's web pages (the agents' inbox, the knowledge
// editor): accounts are agents (tandem.Agent) with a password, sessions are signed cookies,
// and Require lets in only the roles a site names.
//
// An admin creates an account from the command line (tandem users add), which prints a
// one-time link to PasswordPath; the person sets a password there (argon2id, PHC-encoded so
// the parameters can change) and signs in at SignInPath. The link is signed with the
// server's session secret, expires, and is bound to the password hash it was made for, so
// it works once. A session cookie carries the agent's id and session epoch (storage.
// AgentCredentials): setting a password or signing out bumps the epoch and so ends every
// session of that agent. Sign-ins are limited per email and per client address, counted in
// the store (storage.SignInStore) so the limits hold across replicas, and audited (staff.signin, staff.signin_failed, staff.password_set) without the password.
//
// Admins manage accounts at AdminPath: role, skills, languages and capacity (audited
// agent.update, as tandem users set), new accounts and set-password links (shown on the
// page once, and emailed to the agent when Config.Mailer is set). The last admin cannot be
// demoted (the store refuses it).
//
// Pages are server-rendered with no inline script or style (the server's CSP); POST forms
// are behind http.CrossOriginProtection, and the sign-out form carries a token bound to the
// session.
package staff

import (
	"context"
	"crypto/rand"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/alexedwards/argon2id"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/signed"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/web/htmlpage"
)

// Routes of the package, mounted at "/staff/".
const (
	SignInPath  = "/staff/signin"
	SignOutPath = "/staff/signout"
)

// CookieName is the staff session cookie.
const CookieName = "tandem_staff"

// Audit actions.
const (
	ActionSignIn       = "staff.signin"
	ActionSignInFailed = "staff.signin_failed"
	ActionPasswordSet  = "staff.password_set"
)

// Store is what staff reads and changes; storage.Store satisfies it.
type Store interface {
	FindAgentByID(ctx context.Context, id string) (*tandem.Agent, error)
	FindAgentByEmail(ctx context.Context, email string) (*tandem.Agent, error)
	FindAgentCredentials(ctx context.Context, id string) (*storage.AgentCredentials, error)
	SetAgentPassword(ctx context.Context, id, oldHash, newHash string, at time.Time) (*storage.AgentCredentials, error)
	RevokeAgentSessions(ctx context.Context, id string) (*storage.AgentCredentials, error)
	ListAgents(ctx context.Context) ([]tandem.Agent, error)
	CreateAgent(ctx context.Context, a *tandem.Agent) error
	UpdateAgent(ctx context.Context, id string, upd storage.AgentUpdate) (*tandem.Agent, error)
	AppendAudit(ctx context.Context, e *tandem.AuditEntry) error
	TakeSignInAttempt(ctx context.Context, key string, lim storage.AttemptLimit, now time.Time) (bool, time.Duration, error)
}

var _ Store = storage.Store(nil)

// Defaults of Config.
const (
	DefaultSessionTTL       = 12 * time.Hour
	DefaultSignInsPerEmail  = 10 // per hour, in bursts of SignInBurstPerEmail
	DefaultSignInsPerClient = 60 // per hour, in bursts of SignInBurstPerClient
	DefaultMaxFormBytes     = 16 << 10
)

// Bursts of the sign-in limits: attempts allowed at once before the hourly rate applies.
const (
	SignInBurstPerEmail  = 5
	SignInBurstPerClient = 20
)

// Config configures staff sign-in. The zero value is usable (see WithDefaults).
type Config struct {
	// Secret signs sessions and set-password links (HMAC-SHA256); links printed by the CLI
	// only verify when it is the server's TANDEM_SESSION_SECRET. Empty means a random key
	// per process.
	Secret []byte
	// BaseURL is the server's public URL, which the set-password links the admin page
	// shows start with (as the CLI's do). Empty makes them relative.
	BaseURL string
	// Mailer, when set, emails set-password links made on the admin page to the agent
	// (they are still shown). Nil: links are only shown.
	Mailer Mailer
	// SessionTTL is how long a sign-in lasts. Default 12 hours.
	SessionTTL time.Duration
	// SignInsPerEmail and SignInsPerClient bound sign-in attempts per hour for one email
	// address and one client address, counted in the store so the limits hold across
	// replicas. Defaults 10 and 60; negative disables the limit.
	SignInsPerEmail  int
	SignInsPerClient int
	// ClientIP reads a request's client address (web.ClientIPFunc). Default: the
	// connection's address.
	ClientIP func(*http.Request) string
	// SecureCookie marks the session cookie Secure even on plain HTTP requests (behind a
	// proxy that terminates TLS). Requests over TLS always get a Secure cookie.
	SecureCookie bool
	// HashParams are the argon2id parameters of new password hashes. Default
	// DefaultHashParams.
	HashParams argon2id.Params
	// MaxFormBytes bounds a posted form. Default 16 KiB.
	MaxFormBytes int64
	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// Logger receives internal errors. Default slog.Default().
	Logger *slog.Logger
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if len(c.Secret) == 0 {
		c.Secret = make([]byte, 32)
		_, _ = rand.Read(c.Secret) // never fails (crypto/rand)
	}
	if c.SessionTTL <= 0 {
		c.SessionTTL = DefaultSessionTTL
	}
	if c.SignInsPerEmail == 0 {
		c.SignInsPerEmail = DefaultSignInsPerEmail
	}
	if c.SignInsPerClient == 0 {
		c.SignInsPerClient = DefaultSignInsPerClient
	}
	if c.ClientIP == nil {
		c.ClientIP = func(r *http.Request) string { return r.RemoteAddr }
	}
	if c.HashParams == (argon2id.Params{}) {
		c.HashParams = DefaultHashParams
	}
	if c.MaxFormBytes <= 0 {
		c.MaxFormBytes = DefaultMaxFormBytes
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate reports a configuration New would not accept, as a *tandem.Error with code
// EINVALID (New applies WithDefaults, so zero values are fine).
func (c Config) Validate() error {
	if c.SessionTTL < 0 || c.MaxFormBytes < 0 {
		return tandem.Errorf(tandem.EINVALID, "staff: session TTL and form limit must not be negative")
	}
	if c.HashParams != (argon2id.Params{}) && (c.HashParams.Iterations == 0 || c.HashParams.Parallelism == 0 || c.HashParams.SaltLength < 16 || c.HashParams.KeyLength < 16) {
		return tandem.Errorf(tandem.EINVALID, "staff: hash parameters need iterations, parallelism, and salt and key lengths of 16 bytes or more")
	}
	return nil
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Staff serves the sign-in, set-password and sign-out pages and guards other sites
// (Require). It is safe for concurrent use.
type Staff struct {
	cfg       Config
	signer    *signed.Signer
	store     Store
	pages     *htmlpage.Pages
	perEmail  storage.AttemptLimit // zero: no limit
	perClient storage.AttemptLimit
	handler   http.Handler
	dummyOnce sync.Once
	dummyHash string // what unknown emails are checked against, so they cost a hash too
	dummyErr  error
}

// New returns staff sign-in over store, to be mounted at "/staff/". It panics when store
// is nil or cfg is invalid (wiring errors; call Config.Validate first to report them).
func New(cfg Config, store Store) *Staff {
	if store == nil {
		panic("staff.New: store is required")
	}
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	cfg = cfg.WithDefaults()
	s := &Staff{cfg: cfg, signer: signed.New(cfg.Secret), store: store,
		pages:     htmlpage.Parse("staff", templateFS, nil, cfg.Logger),
		perEmail:  perHour(cfg.SignInsPerEmail, SignInBurstPerEmail),
		perClient: perHour(cfg.SignInsPerClient, SignInBurstPerClient),
	}
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /staff/static/", http.StripPrefix("/staff/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET "+SignInPath, s.handleSignInPage)
	mux.HandleFunc("POST "+SignInPath, s.handleSignIn)
	mux.HandleFunc("GET "+PasswordPath, s.handlePasswordPage)
	mux.HandleFunc("POST "+PasswordPath, s.handleSetPassword)
	mux.HandleFunc("POST "+SignOutPath, s.handleSignOut)
	s.mountAdmin(mux)
	mux.HandleFunc("/staff/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, tandem.Errorf(tandem.ENOTFOUND, "no such page"))
	})
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, tandem.Errorf(tandem.EFORBIDDEN, "cross-origin request refused; submit the form from the page itself"))
	}))
	s.handler = cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, cfg.MaxFormBytes)
		}
		mux.ServeHTTP(w, r)
	}))
	return s
}

// perHour is a limit of n attempts an hour in bursts of burst; n <= 0 is no limit.
func perHour(n, burst int) storage.AttemptLimit {
	if n <= 0 {
		return storage.AttemptLimit{}
	}
	return storage.AttemptLimit{Every: time.Hour / time.Duration(n), Burst: burst}
}

// ServeHTTP serves the staff pages under /staff/.
func (s *Staff) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// page is the data every page template gets.
type page struct {
	Title  string
	Agent  *tandem.Agent
	CSRF   string
	Notice string
	Error  string
	Wide   bool // a page of tables rather than one form
	Data   any
}

func (s *Staff) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	s.pages.Render(w, r, status, name, p)
}

// fail renders err as the error page.
func (s *Staff) fail(w http.ResponseWriter, r *http.Request, err error) {
	d := s.pages.Failure(r, err)
	s.render(w, r, d.Status, "error", page{Title: http.StatusText(d.Status), Data: d})
}

func (s *Staff) audit(ctx context.Context, e *tandem.AuditEntry) {
	if err := s.store.AppendAudit(ctx, e); err != nil {
		s.cfg.Logger.ErrorContext(ctx, "staff audit", "action", e.Action, "error", err)
	}
}

// dummy returns a hash of a random password made with the configured parameters.
func (s *Staff) dummy() (string, error) {
	s.dummyOnce.Do(func() {
		s.dummyHash, s.dummyErr = HashPassword(rand.Text(), s.cfg.HashParams)
	})
	return s.dummyHash, s.dummyErr
}
