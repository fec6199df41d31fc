package web_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestGoldenResponses pins the wire format of the REST channel: a change to the JSON that
// integrators parse shows up as a diff of testdata/*.golden.json (go test ./web -update).
func TestGoldenResponses(t *testing.T) {
	t.Parallel()
	f := setup(t)
	post := f.do(t, http.MethodPost, "/api/v1/bots/demo/messages", jsonType,
		`{"user":"visitor-1","text":"How long does shipping take?","message_id":"p-1"}`)
	handoff := f.do(t, http.MethodPost, "/api/v1/bots/demo/messages", jsonType,
		`{"user":"visitor-1","text":"human","conversation_id":"conv-1"}`)
	transcript := f.do(t, http.MethodGet, "/api/v1/conversations/conv-1", "", "")
	notFound := f.do(t, http.MethodGet, "/api/v1/conversations/nope", "", "")
	tests := []struct {
		name string
		body []byte
	}{
		{"post_message", post.Body.Bytes()},
		{"post_message_handoff", handoff.Body.Bytes()},
		{"transcript", transcript.Body.Bytes()},
		{"error_not_found", notFound.Body.Bytes()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got bytes.Buffer
			if err := json.Indent(&got, tt.body, "", "  "); err != nil {
				t.Fatalf("invalid JSON %s: %v", tt.body, err)
			}
			path := filepath.Join("testdata", tt.name+".golden.json")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./web -run Golden -update)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s differs from %s:\n%s", tt.name, path, got.String())
			}
		})
	}
}
