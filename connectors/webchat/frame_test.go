package webchat_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors/webchat"
)

func TestParseFrame(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, data string
		want       webchat.Frame
		code, id   string
	}{
		{"OK", `{"type":"message","text":"  hi there ","id":"c-1"}`, webchat.Frame{Type: "message", Text: "hi there", ID: "c-1"}, "", ""},
		{"OKMaxText", `{"type":"message","text":"` + strings.Repeat("a", 16) + `","id":"c"}`, webchat.Frame{Type: "message", Text: strings.Repeat("a", 16), ID: "c"}, "", ""},
		{"ErrNotJSON", `hello`, webchat.Frame{}, webchat.CodeBadFrame, ""},
		{"ErrArray", `["message"]`, webchat.Frame{}, webchat.CodeBadFrame, ""},
		{"ErrUnknownField", `{"type":"message","text":"hi","id":"c","admin":true}`, webchat.Frame{}, webchat.CodeBadFrame, ""},
		{"ErrTwoValues", `{"type":"message","text":"hi","id":"c"} {}`, webchat.Frame{}, webchat.CodeBadFrame, ""},
		{"ErrUnknownType", `{"type":"presence","id":"c-2"}`, webchat.Frame{}, webchat.CodeUnknownType, "c-2"},
		{"OKTyping", `{"type":"typing"}`, webchat.Frame{Type: "typing"}, "", ""},
		{"ErrNoID", `{"type":"message","text":"hi"}`, webchat.Frame{}, tandem.EINVALID, ""},
		{"ErrIDSpace", `{"type":"message","text":"hi","id":"a b"}`, webchat.Frame{}, tandem.EINVALID, ""},
		{"ErrIDLong", `{"type":"message","text":"hi","id":"` + strings.Repeat("x", 129) + `"}`, webchat.Frame{}, tandem.EINVALID, ""},
		{"ErrEmptyText", `{"type":"message","text":"   ","id":"c-3"}`, webchat.Frame{}, tandem.EINVALID, "c-3"},
		{"ErrTooLarge", `{"type":"message","text":"` + strings.Repeat("a", 17) + `","id":"c-4"}`, webchat.Frame{}, tandem.ETOOLARGE, "c-4"},
		// encoding/json replaces invalid UTF-8, so the engine only ever sees valid text.
		{"OKBadUTF8Replaced", "{\"type\":\"message\",\"text\":\"\xff\",\"id\":\"c-5\"}", webchat.Frame{Type: "message", Text: "\ufffd", ID: "c-5"}, "", ""},
		{"OKFeedback", `{"type":"feedback","message_id":"m1","helpful":false,"comment":" vague "}`,
			webchat.Frame{Type: "feedback", MessageID: "m1", Comment: "vague"}, "", ""},
		{"OKFeedbackHelpful", `{"type":"feedback","message_id":"m1","helpful":true}`, webchat.Frame{Type: "feedback", MessageID: "m1", Helpful: true}, "", ""},
		{"ErrFeedbackNoHelpful", `{"type":"feedback","message_id":"m1"}`, webchat.Frame{}, tandem.EINVALID, ""},
		{"ErrFeedbackHelpfulString", `{"type":"feedback","message_id":"m1","helpful":"yes"}`, webchat.Frame{}, webchat.CodeBadFrame, ""},
		{"ErrFeedbackNoMessage", `{"type":"feedback","helpful":true}`, webchat.Frame{}, tandem.EINVALID, ""},
		{"ErrFeedbackMessageSpace", `{"type":"feedback","message_id":"m 1","helpful":true}`, webchat.Frame{}, tandem.EINVALID, ""},
		{"ErrFeedbackComment", `{"type":"feedback","message_id":"m1","helpful":false,"comment":"` + strings.Repeat("x", tandem.MaxFeedbackCommentBytes+1) + `"}`,
			webchat.Frame{}, tandem.ETOOLARGE, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := webchat.ParseFrame([]byte(tt.data), 16)
			code, id := "", ""
			if err != nil {
				code, id = err.Code, err.ID
				if err.Message == "" {
					t.Error("error frame without a message")
				}
			}
			if got != tt.want || code != tt.code || id != tt.id {
				t.Errorf("ParseFrame = %+v, code %q, id %q; want %+v, %q, %q", got, code, id, tt.want, tt.code, tt.id)
			}
		})
	}
}

// FuzzFrame: any bytes from a browser are parsed without panicking, and an accepted frame
// is one the engine can take.
func FuzzFrame(f *testing.F) {
	for _, s := range []string{`{"type":"message","text":"hi","id":"1"}`, `{"type":"x"}`, `[]`, `{"text":"\u0000"}`, "\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := webchat.ParseFrame(data, 64)
		if err != nil {
			if err.Code == "" || err.Message == "" || len(err.ID) > webchat.MaxClientIDBytes {
				t.Fatalf("bad error %+v", err)
			}
			return
		}
		if fr.Type == "feedback" {
			if fr.MessageID == "" || len(fr.MessageID) > webchat.MaxClientIDBytes || len(fr.Comment) > tandem.MaxFeedbackCommentBytes {
				t.Fatalf("accepted a bad feedback frame %+v from %q", fr, data)
			}
			return
		}
		if fr.Type != "message" || fr.Text == "" || len(fr.Text) > 64 || !utf8.ValidString(fr.Text) ||
			fr.ID == "" || len(fr.ID) > webchat.MaxClientIDBytes || strings.TrimSpace(fr.Text) != fr.Text {
			t.Fatalf("accepted a bad frame %+v from %q", fr, data)
		}
	})
}
