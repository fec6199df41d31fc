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
			r, err := handoff.ParseRole(*role)
			bad, upd.Role = usageError(bad, err), &r
		case "skills":
			var err error
			upd.Skills, err = handoff.ParseNames("skill", *skills, false)
			bad = usageError(bad, err)
		case "languages":
			var err error
			upd.Languages, err = handoff.ParseNames("language", *langs, true)
			bad = usageError(bad, err)
		case "capacity":
			if *capacity < 0 || *capacity > handoff.MaxCapacity {
				bad = usageError(bad, tandem.Errorf(tandem.EINVALID, "--capacity must be from 0 (unlimited) to %d", handoff.MaxCapacity))
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

// usageError keeps the first of a command's bad flags as a usage error.
func usageError(first, err error) error {
	if first != nil || err == nil {
		return first
	}
	return fmt.Errorf("%w: %s", errUsage, tandem.ErrorMessage(err))
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
