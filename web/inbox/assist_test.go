package inbox_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestAssist: the ticket page sums the case up and shows the bot's suggested replies for the
// customer's last message; the agent holding the ticket can put one in the reply box.
func TestAssist(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		claim   bool // the agent claims the ticket first
		fail    bool // the assistant fails
		query   string
		want    []string
		wantNot []string
	}{
		{name: "OK/Queued", want: []string{`id="case-summary"`, "Came for: &#34;Where is my parcel? Shipping is terribly slow&#34;",
			"Understood: shipping_time, human_handoff", "Bot tried: knowledge answers ×1", "Mood: uneasy (-0.28)",
			`id="reply-suggestions"`, "Standard shipping takes 3 to 5 &lt;b&gt;business&lt;/b&gt; days.", "knowledge · sources: Shipping policy"},
			wantNot: []string{"Use this reply"}},
		{name: "OK/HolderMayUse", claim: true, want: []string{`href="/inbox/tickets/` + "{id}" + `?use=0#reply-text"`}},
		{name: "OK/UseFillsReplyBox", claim: true, query: "?use=0",
			want: []string{">Standard shipping takes 3 to 5 &lt;b&gt;business&lt;/b&gt; days.</textarea>"}},
		{name: "ErrUseOutOfRange", claim: true, query: "?use=7", want: []string{`placeholder="Reply to the customer on webchat…"></textarea>`}},
		{name: "ErrUseNotANumber", claim: true, query: "?use=x", want: []string{`placeholder="Reply to the customer on webchat…"></textarea>`}},
		{name: "ErrUseNotHolder", query: "?use=0", wantNot: []string{`id="reply-text"`}},
		{name: "ErrAssistantDown", fail: true, want: []string{`id="case-summary"`}, wantNot: []string{`aria-label="Suggested replies"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.helper.fail = tt.fail
			cookie := f.signIn(t, "ann@example.com")
			if tt.claim {
				res, body := f.do(t, post("/inbox/tickets/"+f.ticket.ID+"/claim", url.Values{"csrf": {f.csrf(t, cookie)}}, cookie))
				if res.StatusCode != http.StatusSeeOther {
					t.Fatalf("claim: %d %s", res.StatusCode, body)
				}
			}
			res, body := f.do(t, get("/inbox/tickets/"+f.ticket.ID+tt.query, cookie))
			if res.StatusCode != http.StatusOK {
				t.Fatalf("ticket page: %d %s", res.StatusCode, body)
			}
			for _, w := range tt.want {
				w = strings.ReplaceAll(w, "{id}", f.ticket.ID)
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %s", w)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(body, w) {
					t.Errorf("page has %s", w)
				}
			}
			if got := f.helper.asked; len(got) == 0 || got[len(got)-1] != "demo: how long does shipping take, I want a human" {
				t.Errorf("assistant asked %q, want the customer's last message", got)
			}
		})
	}
}
