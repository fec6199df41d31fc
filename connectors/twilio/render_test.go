package twilio_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors/twilio"
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
			segs, gsm := twilio.SMSSegments(tt.text)
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
		{"OKOneLongWordCutByRunes", tandem.Reply{Text: strings.Repeat("x", 500), QuickReplies: qr}, 1, []string{"xxx..."}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := twilio.RenderSMS(tt.reply, tt.max)
			if n, _ := twilio.SMSSegments(got); n > tt.max {
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

func TestRenderWhatsApp(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("Standard shipping takes three to five business days. ", 40)
	qr := []tandem.QuickReply{{Title: "Track it", Payload: "track"}, {Title: "Agent", Payload: "agent"}}
	cite := []tandem.Citation{{Title: "Shipping", URL: "https://acme.example/s"}}
	tests := []struct {
		name    string
		reply   tandem.Reply
		want    []string
		notWant []string
	}{
		{"OKFullText", tandem.Reply{Text: "Your order shipped today. 🎉", QuickReplies: qr, Citations: cite},
			[]string{"Your order shipped today. 🎉\nMore: https://acme.example/s\nReply: Track it / Agent"}, nil},
		{"OKLongerThanSMS", tandem.Reply{Text: long[:900]}, []string{long[:899]}, []string{"…"}},
		{"OKCutKeepsReplies", tandem.Reply{Text: long, QuickReplies: qr, Citations: cite}, []string{"…\nReply: Track it / Agent"}, []string{"More:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := twilio.RenderWhatsApp(tt.reply)
			if n := utf8.RuneCountInString(got); n > twilio.MaxWhatsAppBody {
				t.Fatalf("%d characters > %d", n, twilio.MaxWhatsAppBody)
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
