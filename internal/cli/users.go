package cli

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/web/staff"
)

// runUsers lists agents and sets what routing and supervision read from them: role,
// skills (the queues they work), languages and capacity.
func runUsers(ctx context.Context, env Env, args []string) error {
	return dispatch(ctx, env, "tandem users", map[string]command{
		"list":           {"list agents with their role, skills, languages and capacity", runUsersList},
		"set":            {"create or change an agent: tandem users set EMAIL [--role R] [--skills a,b] [--languages en,fr] [--capacity N]", runUsersSet},
		"add":            {"create a staff account and print its one-time set-password link", runUsersAdd},
		"reset-password": {"print a one-time link where an agent sets a new password", runUsersResetPassword},
	}, args)
}

func runUsersList(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tandem users list")
	sf := addStoreFlags(env, fs)
	format := fs.String("format", "text", "output format: text or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	store, err := openStore(ctx, *sf)
	if err != nil {
		return err
	}
	defer store.Close()
	as, err := store.ListAgents(ctx)
	if err != nil {
		return err
	}
	if *format == "json" {
		return writeJSON(env.Stdout, as)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tNAME\tROLE\tSKILLS\tLANGUAGES\tCAPACITY")
	for _, a := range as {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Email, a.Name, a.Role, orDash(strings.Join(a.Skills, ",")),
			orDash(strings.Join(a.Languages, ",")), capacityText(a.Capacity))
	}
	return tw.Flush()
}

// runUsersSet creates the agent when missing (as signing in to the inbox would) and
// changes the fields whose flags are given, audited as agent.update by the cli.
func runUsersSet(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tandem users set")
	sf := addStoreFlags(env, fs)
	name := fs.String("name", "", "display name")
	role := fs.String("role", "", "agent, supervisor, editor or admin (supervisors and admins may transfer any ticket)")
	skills := fs.String("skills", "", "comma-separated queues the agent works; empty clears")
	langs := fs.String("languages", "", "comma-separated language codes the agent speaks (en,fr); empty clears")
	capacity := fs.Int("capacity", 0, "most conversations the agent holds at once; 0 is unlimited")
	var email string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		email, args = args[0], args[1:] // the email may come before the flags
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if email == "" && fs.NArg() == 1 {
		email = fs.Arg(0)
	} else if fs.NArg() > 0 || email == "" {
		return fmt.Errorf("%w: tandem users set needs one agent email", errUsage)
	}
	var upd storage.AgentUpdate
	var bad error
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "name":
			upd.Name = name
		case "role":
			r := tandem.AgentRole(*role)
			switch r {
			case tandem.AgentRoleAgent, tandem.AgentRoleSupervisor, tandem.AgentRoleEditor, tandem.AgentRoleAdmin:
				upd.Role = &r
			default:
				bad = fmt.Errorf("%w: --role %q is not agent, supervisor, editor or admin", errUsage, *role)
			}
		case "skills":
			upd.Skills = splitList(*skills, false)
		case "languages":
			upd.Languages = splitList(*langs, true)
		case "capacity":
			if *capacity < 0 {
				bad = fmt.Errorf("%w: --capacity must not be negative", errUsage)
			}
			upd.Capacity = capacity
		}
	})
	if bad != nil {
		return bad
	}
	store, err := openStore(ctx, *sf)
	if err != nil {
		return err
	}
	defer store.Close()
	a, err := handoff.SignIn(ctx, store, email)
	if err != nil {
		return err
	}
	if a, err = store.UpdateAgent(ctx, a.ID, upd); err != nil {
		return err
	}
	if err := store.AppendAudit(ctx, &tandem.AuditEntry{Actor: "cli", Action: staff.ActionAgentUpdate, Subject: a.ID,
		Detail: map[string]string{"role": string(a.Role), "skills": strings.Join(a.Skills, ","),
			"languages": strings.Join(a.Languages, ","), "capacity": strconv.Itoa(a.Capacity)}}); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: role %s, skills %s, languages %s, capacity %s\n", a.Email, a.Role,
		orDash(strings.Join(a.Skills, ",")), orDash(strings.Join(a.Languages, ",")), capacityText(a.Capacity))
	return nil
}

// splitList splits a comma-separated flag into its non-empty items (lower-cased for
// language codes); an empty flag is an empty, non-nil list, which clears.
func splitList(s string, lower bool) []string {
	out := []string{}
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			if lower {
				v = strings.ToLower(v)
			}
			out = append(out, v)
		}
	}
	return out
}

func capacityText(n int) string {
	if n <= 0 {
		return "unlimited"
	}
	return strconv.Itoa(n)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
