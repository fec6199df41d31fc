package bots_test

import (
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/bots/demo"
)

func TestLoadSavedReplies(t *testing.T) {
	t.Parallel()
	const ok = "saved_replies:\n" +
		"  - id: refund\n    title: Refund approved\n    tags: [billing]\n" +
		"    text: 'Hi {{.Customer.Name}}, {{.Agent.Name}} here: your refund{{with .Profile.order}} for {{.}}{{end}} is on its way.'\n" +
		"  - id: bye\n    title: Goodbye\n    text: Thanks for contacting {{.Bot.Name}}!\n"
	tests := []struct {
		name  string
		file  string
		want  string // substring of the error; empty means OK
		count int
	}{
		{"OK", ok, "", 2},
		{"OKEmptyFile", "", "", 0},
		{"ErrUnknownField", "saved_replies:\n  - id: a\n    title: A\n    text: x\n    tag: [b]\n", "b/saved_replies.yaml:5: saved_replies[0].tag: unknown field", 0},
		{"ErrBadID", "saved_replies:\n  - id: A b\n    title: A\n    text: x\n", `b/saved_replies.yaml:2: saved_replies[0].id: must match`, 0},
		{"ErrDuplicateID", "saved_replies:\n  - id: a\n    title: A\n    text: x\n  - id: a\n    title: B\n    text: y\n",
			`b/saved_replies.yaml:5: saved_replies[1].id: duplicate id "a" (first on line 2)`, 0},
		{"ErrNoTitle", "saved_replies:\n  - id: a\n    text: x\n", "b/saved_replies.yaml:2: saved_replies.a.title: required", 0},
		{"ErrLongTitle", "saved_replies:\n  - id: a\n    title: " + strings.Repeat("t", bots.MaxSavedReplyTitleBytes+1) + "\n    text: x\n",
			"b/saved_replies.yaml:3: saved_replies.a.title: is 121 bytes", 0},
		{"ErrEmptyText", "saved_replies:\n  - id: a\n    title: A\n    text: '  '\n", "b/saved_replies.yaml:4: saved_replies.a.text: empty text", 0},
		{"ErrEmptyTag", "saved_replies:\n  - id: a\n    title: A\n    text: x\n    tags: ['']\n", "b/saved_replies.yaml:5: saved_replies.a.tags[0]: empty tag", 0},
		{"ErrTemplateSyntax", "saved_replies:\n  - id: a\n    title: A\n    text: 'Hi {{.Customer.Name'\n", "b/saved_replies.yaml:4: saved_replies.a.text:", 0},
		{"ErrUnknownTemplateField", "saved_replies:\n  - id: a\n    title: A\n    text: 'Call {{.Customer.Phone}}'\n",
			"b/saved_replies.yaml:4: saved_replies.a.text:", 0},
		{"ErrNotAList", "saved_replies:\n  a: {title: A}\n", "b/saved_replies.yaml:2", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			over := map[string]string{"b/saved_replies.yaml": tc.file}
			if tc.file == "" {
				over = nil
			}
			d, err := bots.Load(minimalBot(over), "b")
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(d.SavedReplies) != tc.count {
					t.Errorf("saved replies = %d, want %d", len(d.SavedReplies), tc.count)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	// The unknown template field is named to the author.
	_, err := bots.Load(minimalBot(map[string]string{"b/saved_replies.yaml": "saved_replies:\n  - id: a\n    title: A\n    text: 'Call {{.Customer.Phone}}'\n"}), "b")
	if err == nil || !strings.Contains(err.Error(), "Phone") {
		t.Errorf("error = %v, want it to name the field Phone", err)
	}
}

func TestSavedReplyRender(t *testing.T) {
	t.Parallel()
	d, err := bots.Load(minimalBot(map[string]string{"b/saved_replies.yaml": "saved_replies:\n" +
		"  - id: refund\n    title: Refund approved\n" +
		"    text: 'Hi {{.Customer.Name}}, {{.Agent.Name}} here: your refund{{with .Profile.order}} for {{.}}{{end}} is on its way.'\n" +
		"  - id: bad\n    title: Bad\n    text: '{{if .Profile.tags}}{{index .Profile.tags 3}}{{end}}'\n" +
		"  - id: blank\n    title: Blank\n    text: '{{.Profile.missing}}'\n"}), "b")
	if err != nil {
		t.Fatal(err)
	}
	cust := &tandem.Customer{ID: "c1", DisplayName: "Ada", Profile: map[string]string{"order": "A123456", "tags": "ab"}}
	agent := &tandem.Agent{Name: "Ann", Email: "ann@example.com"}
	r, ok := d.SavedReply("refund")
	if !ok {
		t.Fatal("no saved reply refund")
	}
	got, err := r.Render(d, "", cust, agent)
	if want := "Hi Ada, Ann here: your refund for A123456 is on its way."; err != nil || got != want {
		t.Errorf("render = %q, %v; want %q", got, err, want)
	}
	got, err = r.Render(d, "", nil, nil)
	if want := "Hi ,  here: your refund is on its way."; err != nil || got != want {
		t.Errorf("render without customer = %q, %v; want %q", got, err, want)
	}
	for _, id := range []string{"bad", "blank"} {
		r, _ := d.SavedReply(id)
		if _, err := r.Render(d, "", cust, agent); tandem.ErrorCode(err) != tandem.EINVALID {
			t.Errorf("render %s: %v, want %s", id, err, tandem.EINVALID)
		}
	}
}

// TestDemoSavedReplies fills in every saved reply of the demo bot, with and without a
// known customer: none needs a conversation.
func TestDemoSavedReplies(t *testing.T) {
	t.Parallel()
	d, err := bots.Load(demo.FS, demo.Root)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.SavedReplies) < 3 {
		t.Fatalf("the demo has %d saved replies, want a few", len(d.SavedReplies))
	}
	agent := &tandem.Agent{Name: "Ann", Email: "ann@example.com"}
	for _, cust := range []*tandem.Customer{nil, {ID: "c1", DisplayName: "Ada", Profile: map[string]string{"name": "Ada", "order_number": "A123456"}}} {
		for _, r := range d.SavedReplies {
			text, err := r.Render(d, "https://support.example.com", cust, agent)
			if err != nil || strings.Contains(text, "<no value>") || strings.Contains(text, "{{") {
				t.Errorf("%s for %v: %q, %v", r.ID, cust, text, err)
			}
		}
	}
}
