package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/internal/app"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/web/staff"
)

// Audit actions of staff accounts made from the command line.
const (
	ActionCreateAccount = staff.ActionAgentCreate
	ActionPasswordLink  = staff.ActionPasswordLink
)

// accountFlags are the flags of the commands that print a set-password link: the store,
// and the configuration that gives the server's base URL, session secret and email.
type accountFlags struct {
	store  *storeFlags
	config *string
}

func addAccountFlags(env Env, fs *flag.FlagSet) accountFlags {
	return accountFlags{store: addStoreFlags(env, fs),
		config: fs.String("config", envDefault(env, "TANDEM_CONFIG", ""), "server configuration file, for base_url and email (env TANDEM_CONFIG)")}
}

// passwordLinks makes set-password links as the server will accept them (signed with
// TANDEM_SESSION_SECRET, under the configured base URL) and emails them when the
// configuration has an email section.
type passwordLinks struct {
	link   func(agentID, hash string) string
	mailer app.Mailer // nil: links are only printed
}

func (f accountFlags) passwordLinks(env Env) (passwordLinks, error) {
	cfg, err := config.Load(*f.config, env.Getenv)
	if err != nil {
		return passwordLinks{}, err
	}
	if cfg.SessionSecret == "" {
		return passwordLinks{}, errors.New("TANDEM_SESSION_SECRET is unset: set it to the server's secret, which signs the set-password link")
	}
	mailer, err := app.NewMailer(cfg.Email, slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return passwordLinks{}, fmt.Errorf("email: %w", err)
	}
	return passwordLinks{mailer: mailer, link: func(agentID, hash string) string {
		return staff.PasswordLink([]byte(cfg.SessionSecret), cfg.BaseURL, agentID, hash, time.Now().Add(staff.DefaultLinkTTL))
	}}, nil
}

// deliver emails link to a when email is configured, and prints it either way, saying
// whether it was emailed. A failed email is reported on stderr; the printed link still
// works, so it is not an error of the command.
func (l passwordLinks) deliver(ctx context.Context, env Env, a *tandem.Agent, link string, reset bool) {
	what := "set a password"
	if reset {
		what = "set a new password"
	}
	if l.mailer != nil {
		subject, text := staff.PasswordEmail(a, link, reset)
		if err := l.mailer.Send(ctx, a.Email, subject, text); err != nil {
			fmt.Fprintf(env.Stderr, "Could not email the link to %s: %v\n", a.Email, err)
		} else {
			fmt.Fprintf(env.Stdout, "Emailed %s this link to %s (works once, for %s):\n%s\n", a.Email, what, staff.DefaultLinkTTL, link)
			return
		}
	}
	fmt.Fprintf(env.Stdout, "Send %s this link to %s (works once, for %s):\n%s\n", a.Email, what, staff.DefaultLinkTTL, link)
}

// runUsersAdd creates a staff account and prints (and with email configured, emails) its
// one-time set-password link.
func runUsersAdd(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tandem users add")
	af := addAccountFlags(env, fs)
	role := fs.String("role", "", "agent, supervisor, editor or admin (required)")
	name := fs.String("name", "", "display name; default: the email's local part")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *role == "" {
		return fmt.Errorf("%w: usage: tandem users add EMAIL --role ROLE [--name NAME]", errUsage)
	}
	r, err := handoff.ParseRole(*role)
	if err != nil {
		return fmt.Errorf("%w: %s", errUsage, tandem.ErrorMessage(err))
	}
	email, err := handoff.ParseEmail(pos[0])
	if err != nil {
		return err
	}
	links, err := af.passwordLinks(env)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, *af.store)
	if err != nil {
		return err
	}
	defer store.Close()
	a := &tandem.Agent{Name: strings.TrimSpace(*name), Email: email, Role: r}
	if a.Name == "" {
		a.Name, _, _ = strings.Cut(email, "@")
	}
	if err := store.CreateAgent(ctx, a); err != nil {
		if tandem.ErrorCode(err) == tandem.EDUPLICATE {
			return fmt.Errorf("%s already has an account: use tandem users reset-password, or tandem users set to change the role", email)
		}
		return err
	}
	if err := store.AppendAudit(ctx, &tandem.AuditEntry{Actor: "cli", Action: ActionCreateAccount, Subject: a.ID,
		Detail: map[string]string{"email": a.Email, "role": string(a.Role)}}); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Created %s (%s).\n", a.Email, a.Role)
	links.deliver(ctx, env, a, links.link(a.ID, ""), false)
	return nil
}

// runUsersResetPassword prints (and with email configured, emails) a one-time link where
// an agent sets a new password. The current password keeps working until the link is used.
func runUsersResetPassword(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tandem users reset-password")
	af := addAccountFlags(env, fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: usage: tandem users reset-password [flags] EMAIL", errUsage)
	}
	links, err := af.passwordLinks(env)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, *af.store)
	if err != nil {
		return err
	}
	defer store.Close()
	a, cred, err := findAccount(ctx, store, pos[0])
	if err != nil {
		return err
	}
	if err := store.AppendAudit(ctx, &tandem.AuditEntry{Actor: "cli", Action: ActionPasswordLink, Subject: a.ID,
		Detail: map[string]string{"email": a.Email}}); err != nil {
		return err
	}
	links.deliver(ctx, env, a, links.link(a.ID, cred.PasswordHash), true)
	return nil
}

func findAccount(ctx context.Context, store storage.Store, email string) (*tandem.Agent, *storage.AgentCredentials, error) {
	a, err := store.FindAgentByEmail(ctx, strings.TrimSpace(email))
	if tandem.ErrorCode(err) == tandem.ENOTFOUND {
		return nil, nil, fmt.Errorf("no account for %s: create one with tandem users add", email)
	}
	if err != nil {
		return nil, nil, err
	}
	cred, err := store.FindAgentCredentials(ctx, a.ID)
	if err != nil {
		return nil, nil, err
	}
	return a, cred, nil
}
