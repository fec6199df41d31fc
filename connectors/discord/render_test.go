package discord

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/tandemhq/tandem"
)

func TestRender(t *testing.T) {
	t.Parallel()
	qrs := func(n int) []tandem.QuickReply {
		q := make([]tandem.QuickReply, n)
		for i := range q {
			q[i] = tandem.QuickReply{Title: "Option " + strconv.Itoa(i), Payload: "p" + strconv.Itoa(i)}
		}
		return q
	}
	cites := func(n int) []tandem.Citation {
		c := make([]tandem.Citation, n)
		for i := range c {
			c[i] = tandem.Citation{Title: "Doc " + strconv.Itoa(i), URL: "https://h/" + strconv.Itoa(i)}
		}
		return c
	}
	tests := []struct {
		name    string
		reply   tandem.Reply
		content string // wanted content; "" means the reply text
		embeds  int
		rows    []int // buttons per row
		ids     []string
	}{
		{name: "OKText", reply: tandem.Reply{Text: "Hello"}},
		{name: "OKLongText", reply: tandem.Reply{Text: strings.Repeat("é", 2500)},
			content: strings.Repeat("é", 1999) + "…"},
		{name: "OKCitations", reply: tandem.Reply{Text: "See", Citations: []tandem.Citation{
			{Title: "Help", URL: "https://h"}, {URL: "https://only-url"}, {DocID: "d-untitled"}}}, embeds: 2},
		{name: "OKTenEmbedsAtMost", reply: tandem.Reply{Text: "See", Citations: cites(12)}, embeds: 10},
		{name: "OKSixButtonsInTwoRows", reply: tandem.Reply{Text: "Pick", QuickReplies: qrs(6)}, rows: []int{5, 1},
			ids: []string{"qr:p0", "qr:p1", "qr:p2", "qr:p3", "qr:p4", "qr:p5"}},
		{name: "OKTwentyFiveButtonsAtMost", reply: tandem.Reply{Text: "Pick", QuickReplies: qrs(30)}, rows: []int{5, 5, 5, 5, 5}},
		{name: "OKRepeatedPayloadDropped", reply: tandem.Reply{Text: "Pick", QuickReplies: []tandem.QuickReply{
			{Title: "Yes", Payload: "yes"}, {Title: "Yes!", Payload: "yes"}, {Title: "No", Payload: "no"}}},
			rows: []int{2}, ids: []string{"qr:yes", "qr:no"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := Render(tc.reply)
			want := tc.content
			if want == "" {
				want = tc.reply.Text
			}
			if m.Content != want {
				t.Errorf("content = %.40q… (%d chars), want %.40q… (%d chars)", m.Content, utf8.RuneCountInString(m.Content), want, utf8.RuneCountInString(want))
			}
			if n := utf8.RuneCountInString(m.Content); n > 2000 {
				t.Errorf("content has %d characters, Discord takes 2000", n)
			}
			if len(m.Embeds) != tc.embeds {
				t.Errorf("%d embeds, want %d", len(m.Embeds), tc.embeds)
			}
			for _, e := range m.Embeds {
				if e.Type != discordgo.EmbedTypeRich || e.Title == "" {
					t.Errorf("embed %+v, want a rich embed with a title", e)
				}
			}
			var rows []int
			var ids []string
			for _, c := range m.Components {
				row, ok := c.(*discordgo.ActionsRow)
				if !ok {
					t.Fatalf("component %T, want *discordgo.ActionsRow", c)
				}
				rows = append(rows, len(row.Components))
				for _, b := range row.Components {
					btn := b.(discordgo.Button)
					ids = append(ids, btn.CustomID)
					if btn.Style != discordgo.PrimaryButton || btn.Label == "" {
						t.Errorf("button %+v, want a labelled primary button", btn)
					}
				}
			}
			if !slices.Equal(rows, tc.rows) {
				t.Errorf("buttons per row = %v, want %v", rows, tc.rows)
			}
			if tc.ids != nil && !slices.Equal(ids, tc.ids) {
				t.Errorf("custom ids = %v, want %v", ids, tc.ids)
			}
			if _, err := json.Marshal(m); err != nil {
				t.Errorf("marshal: %v", err)
			}
		})
	}
}

func TestRenderLimits(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 300)
	m := Render(tandem.Reply{Text: "t", Citations: []tandem.Citation{{Title: long}},
		QuickReplies: []tandem.QuickReply{{Title: long, Payload: long}, {Payload: "no-title"}}})
	if n := utf8.RuneCountInString(m.Embeds[0].Title); n != 256 {
		t.Errorf("embed title has %d characters, want 256", n)
	}
	row := m.Components[0].(*discordgo.ActionsRow)
	b0, b1 := row.Components[0].(discordgo.Button), row.Components[1].(discordgo.Button)
	if n := utf8.RuneCountInString(b0.Label); n != 80 || !strings.HasSuffix(b0.Label, "…") {
		t.Errorf("label has %d characters (%q…), want 80 ending with …", n, b0.Label[:10])
	}
	if n := len(b0.CustomID); n != 100 || !strings.HasPrefix(b0.CustomID, "qr:xxx") {
		t.Errorf("custom id has %d characters, want 100 starting with qr:", n)
	}
	if b1.Label != "no-title" || b1.CustomID != "qr:no-title" {
		t.Errorf("untitled quick reply = %+v, want the payload as its label", b1)
	}
}

func TestQuickReplyPayload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id, payload string
		ok          bool
	}{
		{id: "qr:track", payload: "track", ok: true},
		{id: "qr:", payload: "", ok: true},
		{id: "other:track"},
	}
	for _, tc := range tests {
		if got, ok := quickReplyPayload(tc.id); got != tc.payload || ok != tc.ok {
			t.Errorf("quickReplyPayload(%q) = %q, %v; want %q, %v", tc.id, got, ok, tc.payload, tc.ok)
		}
	}
}
