package handoff

import (
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tandemhq/tandem"
)

// The rules for what may be said about an agent, shared by every place that edits agents
// (signing in, the CLI, the staff admin page), so each accepts the same input.

// Roles lists the agent roles, least powerful first.
var Roles = []tandem.AgentRole{tandem.AgentRoleAgent, tandem.AgentRoleSupervisor, tandem.AgentRoleEditor, tandem.AgentRoleAdmin}

// MaxCapacity is the largest capacity an agent may be given (0 is unlimited).
const MaxCapacity = 1000

// maxNames bounds the skills or languages of one agent.
const maxNames = 20

// nameRE is one skill (a queue name) or language code.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$`)

// ParseEmail returns the lower-cased address of v, or EINVALID.
func ParseEmail(v string) (string, error) {
	addr, err := mail.ParseAddress(strings.TrimSpace(v))
	if err != nil || addr.Name != "" || len(addr.Address) > 254 {
		return "", tandem.Errorf(tandem.EINVALID, "%q is not an email address", v)
	}
	return strings.ToLower(addr.Address), nil
}

// ParseRole returns the role v names, or EINVALID.
func ParseRole(v string) (tandem.AgentRole, error) {
	r := tandem.AgentRole(strings.TrimSpace(v))
	if !slices.Contains(Roles, r) {
		return "", tandem.Errorf(tandem.EINVALID, "role %q is not agent, supervisor, editor or admin", v)
	}
	return r, nil
}

// ParseNames splits a comma-separated list of skills or language codes (what names them in
// errors; lower-cased when lower) into short names without repeats; empty is an empty,
// non-nil list, which clears. Bad names or too many: EINVALID.
func ParseNames(what, v string, lower bool) ([]string, error) {
	out := []string{}
	for t := range strings.SplitSeq(v, ",") {
		if t = strings.TrimSpace(t); t == "" {
			continue
		}
		if !nameRE.MatchString(t) {
			return nil, tandem.Errorf(tandem.EINVALID, "%s %q is not a short name: use letters, digits, '-', '_' or '.', at most 32", what, t)
		}
		if lower {
			t = strings.ToLower(t)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) > maxNames {
		return nil, tandem.Errorf(tandem.EINVALID, "too many %ss: at most %d", what, maxNames)
	}
	return out, nil
}

// ParseCapacity reads a capacity: a whole number from 0 (unlimited, also for "") to
// MaxCapacity, or EINVALID.
func ParseCapacity(v string) (int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > MaxCapacity {
		return 0, tandem.Errorf(tandem.EINVALID, "capacity %q is not a whole number from 0 (unlimited) to %d", v, MaxCapacity)
	}
	return n, nil
}
