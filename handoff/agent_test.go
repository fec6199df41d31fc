package handoff_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/handoff"
)

func TestParseAgentFields(t *testing.T) {
	t.Parallel()
	t.Run("Names", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name, in string
			lower    bool
			want     []string
			err      bool
		}{
			{name: "OK", in: " billing, returns ,billing", want: []string{"billing", "returns"}},
			{name: "OKLower", in: "EN,fr", lower: true, want: []string{"en", "fr"}},
			{name: "OKEmptyClears", in: " , ", want: []string{}},
			{name: "ErrSpace", in: "vip customers", err: true},
			{name: "ErrLong", in: strings.Repeat("a", 33), err: true},
			{name: "ErrTooMany", in: strings.Repeat("x,", 20) + strings.Join([]string{"a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9", "c1", "c2", "c3"}, ","), err: true},
		}
		for _, tt := range tests {
			got, err := handoff.ParseNames("skill", tt.in, tt.lower)
			if (err != nil) != tt.err || (!tt.err && !slices.Equal(got, tt.want)) || (tt.err && tandem.ErrorCode(err) != tandem.EINVALID) {
				t.Errorf("%s: ParseNames(%q) = %v, %v", tt.name, tt.in, got, err)
			}
		}
	})
	t.Run("Capacity", func(t *testing.T) {
		t.Parallel()
		for in, want := range map[string]int{"": 0, " 3 ": 3, "1000": 1000, "-1": -1, "1001": -1, "two": -1} {
			got, err := handoff.ParseCapacity(in)
			if (want < 0) != (err != nil) || (want >= 0 && got != want) {
				t.Errorf("ParseCapacity(%q) = %d, %v; want %d", in, got, err, want)
			}
		}
	})
	t.Run("RoleAndEmail", func(t *testing.T) {
		t.Parallel()
		if r, err := handoff.ParseRole(" supervisor "); err != nil || r != tandem.AgentRoleSupervisor {
			t.Errorf("ParseRole = %q, %v", r, err)
		}
		if _, err := handoff.ParseRole("root"); tandem.ErrorCode(err) != tandem.EINVALID {
			t.Errorf("ParseRole(root) = %v, want EINVALID", err)
		}
		if e, err := handoff.ParseEmail(" Ann@Example.COM "); err != nil || e != "ann@example.com" {
			t.Errorf("ParseEmail = %q, %v", e, err)
		}
		for _, bad := range []string{"ann", "Ann <ann@example.com>", ""} {
			if _, err := handoff.ParseEmail(bad); tandem.ErrorCode(err) != tandem.EINVALID {
				t.Errorf("ParseEmail(%q) = %v, want EINVALID", bad, err)
			}
		}
	})
}
