package bots_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/bots"
)

func TestSMSSegments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		segs int
		gsm  bool
	}{
		{"OKShort", "hello", 1, true},
		{"OK160", strings.Repeat("a", 160), 1, true},
		{"OK161", strings.Repeat("a", 161), 2, true},
		{"OKExtensionCountsDouble", strings.Repeat("€", 81), 2, true},
		{"OKUnicode70", strings.Repeat("配", 70), 1, false},
		{"OKUnicode71", strings.Repeat("配", 71), 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			segs, gsm := bots.SMSSegments(tt.text)
			if segs != tt.segs || gsm != tt.gsm {
				t.Fatalf("SMSSegments = %d, %v; want %d, %v", segs, gsm, tt.segs, tt.gsm)
			}
		})
	}
}

func TestRenderSMS(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("Standard shipping takes three to five business days. ", 20)
	qr := []tandem.QuickReply{{Title: "Yes", Payload: "yes"}, {Title: "No", Payload: "no"}}
	cite := []tandem.Citation{{Title: "Shipping", URL: "https://acme.example/s"}}
	tests := []struct {
		name    string
		reply   tandem.Reply
		max     int
		want    []string
		notWant []string
	}{
		{"OKFits", tandem.Reply{Text: "Hi!", QuickReplies: qr, Citations: cite}, 1, []string{"Hi!", "Reply: Yes / No", "More: https://acme.example/s"}, nil},
		{"OKCutKeepsReplies", tandem.Reply{Text: long, QuickReplies: qr, Citations: cite}, 2, []string{"...", "Reply: Yes / No"}, []string{"More:", "…"}},
		{"OKCutNoTail", tandem.Reply{Text: long}, 1, []string{"..."}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := bots.RenderSMS(tt.reply, tt.max)
			if n, _ := bots.SMSSegments(got); n > tt.max {
				t.Fatalf("%d segments > %d: %q", n, tt.max, got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q lacks %q", got, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got, w) {
					t.Errorf("%q contains %q", got, w)
				}
			}
		})
	}
}

func TestSlackAndDiscord(t *testing.T) {
	t.Parallel()
	r := tandem.Reply{Text: "Use <code> & more", Citations: []tandem.Citation{{Title: "Help", URL: "https://h"}},
		QuickReplies: []tandem.QuickReply{{Title: "A", Payload: "pa"}, {Title: "B", Payload: "pb"}, {Title: "C", Payload: "pc"},
			{Title: "D", Payload: "pd"}, {Title: "E", Payload: "pe"}, {Title: "F", Payload: "pf"}}}
	blocks, err := json.Marshal(bots.SlackBlocks(r))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"type":"section"`, `Use \u0026lt;code\u0026gt; \u0026amp; more`, `"type":"actions"`, `\u003chttps://h|Help\u003e`, `"value":"pf"`} {
		if !strings.Contains(string(blocks), w) {
			t.Errorf("slack blocks lack %s: %s", w, blocks)
		}
	}
	d := bots.RenderDiscord(r)
	if d.Content != r.Text || len(d.Embeds) != 1 || d.Embeds[0].URL != "https://h" {
		t.Errorf("discord = %+v", d)
	}
	if len(d.Components) != 2 || len(d.Components[0].Components) != 5 || d.Components[1].Components[0].CustomID != "qr:pf" {
		t.Errorf("discord components = %+v", d.Components)
	}
}
