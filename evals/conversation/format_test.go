package conversation_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tandemhq/tandem/evals/conversation"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml string
		wantErr    string // substring of the error; "" means success
	}{
		{"OK", `name: order status
turns:
  - user: where is my order
    expect: {intent: order_status, decision: intent, contains: "order number", response: "(?i)order\\s+number"}
  - user: it's A100001
    expect: {flow: order_status, entities: [order_number/A100001, number], cites: faq.md, handoff: false}
  - user: thanks
`, ""},
		{"OKNoFlow", "name: x\nturns:\n  - user: hi\n    expect: {flow: \"\"}\n", ""},
		{"ErrUnknownField", "name: x\nturns:\n  - user: hi\n    expect: {intnet: greet}\n", "t.yaml:4: turns[0].expect.intnet: unknown field"},
		{"ErrUnknownTopField", "name: x\nturn:\n  - user: hi\n", "t.yaml:2: turn: unknown field"},
		{"ErrNoName", "turns:\n  - user: hi\n", "t.yaml:1: name: required"},
		{"ErrNoTurns", "name: x\nturns: []\n", "t.yaml:2: turns: at least one turn"},
		{"ErrEmptyUser", "name: x\nturns:\n  - user: hi\n  - expect: {intent: greet}\n", "t.yaml:4: turns[1].user: required"},
		{"ErrBadRegexp", "name: x\nturns:\n  - user: hi\n    expect:\n      response: \"a(b\"\n", "t.yaml:5: turns[0].expect.response: bad regular expression"},
		{"ErrBadDecision", "name: x\nturns:\n  - user: hi\n    expect: {decision: answer}\n", `t.yaml:4: turns[0].expect.decision: unknown decision "answer"`},
		{"ErrBadEntity", "name: x\nturns:\n  - user: hi\n    expect: {entities: [/x]}\n", "t.yaml:4: turns[0].expect.entities: want type or type/value"},
		{"ErrWrongType", "name: x\nturns:\n  - user: hi\n    expect: {handoff: maybe}\n", "t.yaml:4:"},
		{"ErrSyntax", "name: [x\n", "t.yaml: yaml:"},
		{"ErrEmpty", "", "t.yaml:1: empty test file"},
		{"ErrNotMapping", "- a\n- b\n", "t.yaml:1: want a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := conversation.Parse("t.yaml", []byte(tt.yaml))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.File != "t.yaml" || len(got.Turns) == 0 || got.Turns[0].Line != 3 {
				t.Errorf("got file %q, %d turns, first at line %d; want t.yaml, turns, line 3", got.File, len(got.Turns), got.Turns[0].Line)
			}
		})
	}
	t.Run("OKFields", func(t *testing.T) {
		t.Parallel()
		got, err := conversation.Parse("t.yaml", []byte(tests[0].yaml))
		if err != nil {
			t.Fatal(err)
		}
		x := got.Turns[1].Expect
		if x.Flow == nil || *x.Flow != "order_status" || len(x.Entities) != 2 || x.Handoff == nil || *x.Handoff || x.Cites != "faq.md" {
			t.Errorf("turn 2 expect = %+v", x)
		}
		if got.Turns[2].Expect.Flow != nil || got.Turns[2].Line != 7 {
			t.Errorf("turn 3 = %+v, want no flow check at line 7", got.Turns[2])
		}
	})
}

func TestParseFS(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"bot/tests/a.yaml": {Data: []byte("name: a\nturns:\n  - user: hi\n")},
		"bot/tests/b.yaml": {Data: []byte("name: b\nturns:\n  - user: bye\n")},
		"bad/x.yaml":       {Data: []byte("name: x\nturns:\n  - user: hi\n    bogus: 1\n")},
		"bad/y.yaml":       {Data: []byte("turns:\n  - user: hi\n")},
	}
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		got, err := conversation.ParseFS(fsys, "bot/tests/*.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Name != "a" || got[1].File != "bot/tests/b.yaml" {
			t.Errorf("got %+v, want a and b in order", got)
		}
	})
	t.Run("ErrEveryFile", func(t *testing.T) {
		t.Parallel()
		_, err := conversation.ParseFS(fsys, "bad/*.yaml")
		if err == nil || !strings.Contains(err.Error(), "bad/x.yaml:4: turns[0].bogus") || !strings.Contains(err.Error(), "bad/y.yaml:1: name") {
			t.Fatalf("err = %v, want both files' errors", err)
		}
	})
	t.Run("ErrPattern", func(t *testing.T) {
		t.Parallel()
		if _, err := conversation.ParseFS(fsys, "[x"); err == nil {
			t.Fatal("bad pattern accepted")
		}
	})
}

// FuzzParse checks that no input makes Parse panic and that every accepted test is
// runnable: a name, turns with text.
func FuzzParse(f *testing.F) {
	f.Add([]byte("name: x\nturns:\n  - user: hi\n    expect: {intent: greet, handoff: true, flow: \"\"}\n"))
	f.Add([]byte("name: x\nturns: &a\n  - user: hi\nother: *a\n"))
	f.Add([]byte("name: x\nturns:\n  - *a\n"))
	f.Add([]byte("name: x\nturns:\n  -\n  - user: y\n"))
	f.Add([]byte("name: x\nturns:\n  - user: hi\n    expect: {response: '[', entities: [a/b, /c]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := conversation.Parse("f.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yaml") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if strings.TrimSpace(got.Name) == "" || len(got.Turns) == 0 {
			t.Fatalf("accepted %q as %+v", data, got)
		}
		for _, tu := range got.Turns {
			if strings.TrimSpace(tu.User) == "" {
				t.Fatalf("accepted a turn without text: %q", data)
			}
		}
	})
}
