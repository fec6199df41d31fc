package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff"
	"github.com/tandemhq/tandem/storage"
)

// ActionSetRole is the audit action of a role change made from the command line.
const ActionSetRole = "agent.set_role"

// runUsers manages the agents of the inbox and desks (an agent is created when it first
// signs in, with the role agent).
func runUsers(ctx context.Context, env Env, args []string) error {
	return dispatch(ctx, env, "tandem users", map[string]command{
		"list":           {"list agents with their roles", runUsersList},
		"set-role":       {"give an agent (by email) a role: agent, supervisor, editor or admin", runUsersSetRole},
		"add":            {"create a staff account and print its one-time set-password link", runUsersAdd},
		"reset-password": {"print a one-time link where an agent sets a new password", runUsersResetPassword},
	}, args)
}

func runUsersList(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tandem users list")
	sf := addStoreFlags(env, fs)
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
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tNAME\tROLE")
	for _, a := range as {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Email, a.Name, a.Role)
	}
	return tw.Flush()
}

// runUsersSetRole sets the role of the agent with an email address, creating the agent
// (as a first sign-in would) when there is none, and audits the change.
func runUsersSetRole(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tandem users set-role")
	sf := addStoreFlags(env, fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return fmt.Errorf("%w: usage: tandem users set-role [flags] EMAIL ROLE", errUsage)
	}
	role := tandem.AgentRole(fs.Arg(1))
	switch role {
	case tandem.AgentRoleAgent, tandem.AgentRoleSupervisor, tandem.AgentRoleEditor, tandem.AgentRoleAdmin:
	default:
		return fmt.Errorf("%w: role %q is not agent, supervisor, editor or admin", errUsage, role)
	}
	store, err := openStore(ctx, *sf)
	if err != nil {
		return err
	}
	defer store.Close()
	a, err := handoff.SignIn(ctx, store, fs.Arg(0))
	if err != nil {
		return err
	}
	before := a.Role
	if a, err = store.UpdateAgent(ctx, a.ID, storage.AgentUpdate{Role: &role}); err != nil {
		return err
	}
	if err := store.AppendAudit(ctx, &tandem.AuditEntry{Actor: "cli", Action: ActionSetRole, Subject: a.ID,
		Detail: map[string]string{"email": a.Email, "from": string(before), "to": string(role)}}); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s is now %s (was %s)\n", a.Email, a.Role, before)
	return nil
}
