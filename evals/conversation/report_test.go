package conversation_test

import (
	"bytes"
	"encoding/xml"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/evals/conversation"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestReports(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file string
		write      func(io.Writer, conversation.Result) error
	}{
		{"OKText", "report.txt", conversation.WriteText},
		{"OKJSON", "report.json", conversation.WriteJSON},
		{"OKJUnit", "report.junit.xml", conversation.WriteJUnit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			if err := tt.write(&b, fixtureResult()); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.file, b.Bytes())
		})
	}
	t.Run("OKJSONRoundTrip", func(t *testing.T) {
		t.Parallel()
		var b bytes.Buffer
		want := fixtureResult()
		if err := conversation.WriteJSON(&b, want); err != nil {
			t.Fatal(err)
		}
		got, err := conversation.ReadJSON(&b)
		if err != nil {
			t.Fatal(err)
		}
		if d := conversation.Compare(want, got); len(d.Tests)+len(d.Turns) > 0 || d.Regressed() || got.Metrics != want.Metrics {
			t.Errorf("round trip changed the result: %+v", d)
		}
	})
	t.Run("OKJUnitParses", func(t *testing.T) {
		t.Parallel()
		var b bytes.Buffer
		if err := conversation.WriteJUnit(&b, fixtureResult()); err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Suites []struct {
				Tests    int `xml:"tests,attr"`
				Failures int `xml:"failures,attr"`
				Cases    []struct {
					Name    string `xml:"name,attr"`
					Failure *struct {
						Message string `xml:"message,attr"`
						Text    string `xml:",chardata"`
					} `xml:"failure"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		s := doc.Suites[0]
		if s.Tests != 4 || s.Failures != 2 || len(s.Cases) != 4 || s.Cases[0].Failure != nil {
			t.Fatalf("suite = %+v, want 4 cases, 2 failures", s)
		}
		f := s.Cases[2].Failure
		if f == nil || f.Message != "1 of 2 turns failed" || !strings.Contains(f.Text, "tests/wrong.yaml:3 turn 1") ||
			!strings.Contains(f.Text, "intent: want shipping_time, got shipping_cost") {
			t.Errorf("failure = %+v, want the turn and its reasons", f)
		}
	})
	t.Run("ErrReadJSONUnknownField", func(t *testing.T) {
		t.Parallel()
		if _, err := conversation.ReadJSON(strings.NewReader(`{"bot":"x","testz":[]}`)); err == nil {
			t.Fatal("unknown field accepted")
		}
	})
}
