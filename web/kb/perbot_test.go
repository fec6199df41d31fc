package kb_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/retrieval/review"
	"github.com/tandemhq/tandem/web/kb"
)

// TestReviewPerBot: one server, two bots. Bot "strict" answers from collection "default"
// and requires review; bot "relaxed" answers from "relaxed" and does not (the server's
// default, false). The editor applies to each document the rule of the bot owning its
// collection: publishing and publishing uploads are refused in "default" only, and an
// upload that changes a published document there waits as its next version.
func TestReviewPerBot(t *testing.T) {
	t.Parallel()
	yes := true
	defs := []*bots.Definition{
		{ID: "strict", Knowledge: bots.KnowledgeConfig{Collections: []string{"default"}, RequireReview: &yes}},
		{ID: "relaxed", Knowledge: bots.KnowledgeConfig{Collections: []string{"relaxed"}}},
	}
	f := setupReview(t, kb.Config{RequireReview: bots.ReviewRule(defs, false)})
	if _, err := f.kb.Ingest(context.Background(), "relaxed", []retrieval.Source{{ID: "returns", Title: "Returns", Body: "Return within 30 days.", Status: tandem.DocumentDraft}}, nil); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name   string
		do     func(t *testing.T) (int, string)
		status int
		want   string
	}{
		{"ErrStrictPublish", func(t *testing.T) (int, string) {
			res, body := f.do(t, as(form("POST", "/kb/docs/"+returnsID+"/publish", nil), "ann"))
			return res.StatusCode, body
		}, 403, "needs review"},
		{"OKRelaxedPublish", func(t *testing.T) (int, string) {
			res, body := f.do(t, as(form("POST", "/kb/docs/relaxed/returns/publish", nil), "ann"))
			return res.StatusCode, body
		}, 303, ""},
		{"ErrStrictUploadPublished", func(t *testing.T) (int, string) {
			res, body := f.do(t, as(upload(t, "a.md", []byte("# A\nText."), map[string]string{"collection": "default", "publish": "on"}), "ann"))
			return res.StatusCode, body
		}, 403, "needs review"},
		{"OKRelaxedUploadPublished", func(t *testing.T) (int, string) {
			res, body := f.do(t, as(upload(t, "a.md", []byte("# A\nText."), map[string]string{"collection": "relaxed", "publish": "on"}), "ann"))
			if res.StatusCode == 303 {
				_, body = events(t, f, res.Header.Get("Location"))
			}
			return res.StatusCode, body
		}, 303, `"added":1`},
		{"OKStrictUploadChange", func(t *testing.T) (int, string) {
			md := "---\nid: faq/shipping\ntitle: How long does shipping take?\n---\nStandard shipping takes 2 days.\n"
			res, body := f.do(t, as(upload(t, "shipping.md", []byte(md), map[string]string{"collection": "default"}), "ann"))
			if res.StatusCode == 303 {
				_, body = events(t, f, res.Header.Get("Location"))
			}
			return res.StatusCode, body
		}, 303, `"finished":true`},
	}
	for _, s := range steps {
		code, body := s.do(t)
		if code != s.status || !strings.Contains(body, s.want) {
			t.Fatalf("%s: status %d, want %d with %q: %s", s.name, code, s.status, s.want, body)
		}
	}
	if got := f.doc(t, "relaxed/returns").Status; got != tandem.DocumentPublished {
		t.Errorf("relaxed/returns is %s, want published", got)
	}
	if got := f.doc(t, "relaxed/a").Status; got != tandem.DocumentPublished {
		t.Errorf("relaxed/a is %s, want published", got)
	}
	if d := f.doc(t, "default/faq/shipping"); d.Status != tandem.DocumentPublished || !strings.Contains(d.Body, "3 to 5") {
		t.Errorf("published shipping after the upload = %s %q, want published and unchanged", d.Status, d.Body)
	}
	if d := f.doc(t, review.NextID("default/faq/shipping")); d.Status != tandem.DocumentDraft || !strings.Contains(d.Body, "2 days") {
		t.Errorf("next version of shipping = %s %q, want the uploaded draft", d.Status, d.Body)
	}
	if got := f.doc(t, returnsID).Status; got != tandem.DocumentDraft {
		t.Errorf("%s is %s, want draft", returnsID, got)
	}
}
