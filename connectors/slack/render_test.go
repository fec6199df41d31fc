package slack

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"

	"github.com/tandemhq/tandem"
)

func TestBlocks(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("Tom & Jerry <3 ", 500) // 7500 characters, 9000 once escaped
	many := func(n int) []tandem.QuickReply {
		q := make([]tandem.QuickReply, n)
		for i := range q {
			q[i] = tandem.QuickReply{Title: "Option " + strconv.Itoa(i), Payload: "opt" + strconv.Itoa(i)}
		}
		return q
	}
	for _, tc := range []struct {
		name     string
		reply    tandem.Reply
		want     string // the blocks as JSON; "" to check only the invariants
		fallback string
	}{
		{name: "OKText", reply: tandem.Reply{Text: "Hello *there*"},
			want:     `[{"type":"section","text":{"type":"mrkdwn","text":"Hello *there*"}}]`,
			fallback: "Hello *there*"},
		{name: "OKEscaped", reply: tandem.Reply{Text: "<!channel> <@U0BOSS> & <https://evil.example|your bank>"},
			want:     `[{"type":"section","text":{"type":"mrkdwn","text":"&lt;!channel&gt; &lt;@U0BOSS&gt; &amp; &lt;https://evil.example|your bank&gt;"}}]`,
			fallback: "&lt;!channel&gt; &lt;@U0BOSS&gt; &amp; &lt;https://evil.example|your bank&gt;"},
		{name: "OKCitations", reply: tandem.Reply{Text: "See the docs.", Citations: []tandem.Citation{
			{DocID: "1", Title: "Returns <EU> & UK", URL: "https://help.example.com/a?x=1&y=2"},
			{DocID: "2", Title: "Shipping", URL: "https://help.example.com/s|<b>"},
			{DocID: "3", Title: "Internal note"},
			{DocID: "4", Title: "Script", URL: "javascript:alert(1)"},
			{DocID: "5", URL: "https://help.example.com/untitled"},
			{DocID: "6"},
		}},
			want: `[{"type":"section","text":{"type":"mrkdwn","text":"See the docs."}},{"type":"context","elements":[` +
				`{"type":"mrkdwn","text":"Source: <https://help.example.com/a?x=1&amp;y=2|Returns &lt;EU&gt; &amp; UK>"},` +
				`{"type":"mrkdwn","text":"Source: <https://help.example.com/s%7C%3Cb%3E|Shipping>"},` +
				`{"type":"mrkdwn","text":"Source: Internal note"},` +
				`{"type":"mrkdwn","text":"Source: Script"},` +
				`{"type":"mrkdwn","text":"Source: <https://help.example.com/untitled>"}]}]`,
			fallback: "See the docs."},
		{name: "OKQuickReplies", reply: tandem.Reply{Text: "Anything else?", QuickReplies: []tandem.QuickReply{
			{Title: "Track <it>", Payload: "track & trace"},
			{Title: "", Payload: "no title"},
			{Title: " ", Payload: ""},
			{Title: strings.Repeat("é", 80), Payload: strings.Repeat("p", 2100)},
		}},
			want: `[{"type":"section","text":{"type":"mrkdwn","text":"Anything else?"}},{"type":"actions","elements":[` +
				`{"type":"button","text":{"type":"plain_text","text":"Track <it>","emoji":true},"action_id":"quick_reply_0","value":"track & trace"},` +
				`{"type":"button","text":{"type":"plain_text","text":"no title","emoji":true},"action_id":"quick_reply_1","value":"no title"},` +
				`{"type":"button","text":{"type":"plain_text","text":"` + strings.Repeat("é", 74) + `…","emoji":true},"action_id":"quick_reply_2","value":"` + strings.Repeat("p", 1999) + `…"}]}]`,
			fallback: "Anything else?"},
		{name: "OKOnlyQuickReplies", reply: tandem.Reply{QuickReplies: []tandem.QuickReply{{Title: "Yes", Payload: "yes"}, {Title: "No & never", Payload: "no"}}},
			want: `[{"type":"actions","elements":[` +
				`{"type":"button","text":{"type":"plain_text","text":"Yes","emoji":true},"action_id":"quick_reply_0","value":"yes"},` +
				`{"type":"button","text":{"type":"plain_text","text":"No & never","emoji":true},"action_id":"quick_reply_1","value":"no"}]}]`,
			fallback: "Yes / No &amp; never"},
		{name: "OKLongText", reply: tandem.Reply{Text: long}, fallback: escape(strings.TrimSpace(long))},
		{name: "OKTooManyButtons", reply: tandem.Reply{Text: "Pick one", QuickReplies: many(30)}, fallback: "Pick one"},
		{name: "OKTooManySources", reply: tandem.Reply{Text: "Sources", Citations: func() []tandem.Citation {
			c := make([]tandem.Citation, 12)
			for i := range c {
				c[i] = tandem.Citation{DocID: strconv.Itoa(i), Title: "Doc " + strconv.Itoa(i), URL: "https://kb.example.com/" + strconv.Itoa(i)}
			}
			return c
		}()}, fallback: "Sources"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			blocks := Blocks(tc.reply)
			got, err := json.Marshal(blocks)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want != "" && !jsonEqual(t, string(got), tc.want) {
				t.Errorf("blocks =\n%s\nwant\n%s", got, tc.want)
			}
			if f := Fallback(tc.reply); f != tc.fallback {
				t.Errorf("fallback = %q, want %q", f, tc.fallback)
			}
			checkLimits(t, tc.reply, blocks)
		})
	}
}

// checkLimits checks what holds for every rendering: every text passes slack-go's own
// validation, Slack's element counts are kept, action ids are unique, and the sections
// read back as the reply's text.
func checkLimits(t *testing.T, r tandem.Reply, blocks []slackapi.Block) {
	t.Helper()
	var text strings.Builder
	ids := map[string]bool{}
	for _, b := range blocks {
		switch b := b.(type) {
		case *slackapi.SectionBlock:
			if err := b.Text.Validate(); err != nil {
				t.Errorf("section text: %v", err)
			}
			text.WriteString(plainText(b.Text.Text))
		case *slackapi.ContextBlock:
			if n := len(b.ContextElements.Elements); n == 0 || n > maxContextItems {
				t.Errorf("context block has %d elements", n)
			}
			for _, e := range b.ContextElements.Elements {
				if err := e.(*slackapi.TextBlockObject).Validate(); err != nil {
					t.Errorf("context text: %v", err)
				}
			}
		case *slackapi.ActionBlock:
			if n := len(b.Elements.ElementSet); n == 0 || n > maxButtons {
				t.Errorf("actions block has %d elements", n)
			}
			for _, e := range b.Elements.ElementSet {
				btn := e.(*slackapi.ButtonBlockElement)
				if err := btn.Text.Validate(); err != nil || utf8.RuneCountInString(btn.Text.Text) > maxButtonText ||
					utf8.RuneCountInString(btn.Value) > maxButtonValue || ids[btn.ActionID] {
					t.Errorf("button %+v breaks Slack's limits (%v)", btn, err)
				}
				ids[btn.ActionID] = true
			}
		default:
			t.Errorf("unexpected block %T", b)
		}
	}
	if got, want := text.String(), strings.TrimSpace(r.Text); got != want {
		t.Errorf("sections read %d characters, want the reply's %d", len(got), len(want))
	}
}

func TestPlainText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"hello", "hello"},
		{"a &amp;lt; b", "a &lt; b"},
		{"1 &lt; 2 &gt; 0 &amp; ok", "1 < 2 > 0 & ok"},
		{"go to <https://example.com/x?a=1&amp;b=2>", "go to https://example.com/x?a=1&b=2"},
		{"<https://example.com|example.com> and <mailto:ana@example.com|ana@example.com>", "example.com and ana@example.com"},
		{"<mailto:ana@example.com>", "ana@example.com"},
		{"hi <@U0APPBOT> in <#C0GENERAL|general> <!here>", "hi <@U0APPBOT> in <#C0GENERAL|general> <!here>"},
		{"unclosed <https://example.com", "unclosed <https://example.com"},
		{"<>", "<>"},
	} {
		if got := plainText(tc.in); got != tc.want {
			t.Errorf("plainText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
