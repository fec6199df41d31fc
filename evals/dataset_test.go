package evals

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
)

func TestReadLabeledCSV(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    []LabeledText
		errCode string
	}{
		{"OK", "text,label\nhello,greet\n\"a, b\",oos\n", []LabeledText{{"hello", "greet"}, {"a, b", "oos"}}, ""},
		{"OK/reordered", "label,id,text\ngreet,1,hi\n", []LabeledText{{"hi", "greet"}}, ""},
		{"OK/skipsEmpty", "text,label\n,greet\n", nil, ""},
		{"ErrNoHeader", "foo,bar\nx,y\n", nil, tandem.EINVALID},
		{"ErrEmpty", "", nil, tandem.EINVALID},
		{"ErrShortRow", "text,label\nonly\n", nil, tandem.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ReadLabeledCSV(strings.NewReader(tt.in))
			if tt.errCode != "" {
				if tandem.ErrorCode(err) != tt.errCode {
					t.Fatalf("err = %v, want code %s", err, tt.errCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("row %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestStratifiedSplitRoundTrip(t *testing.T) {
	t.Parallel()
	rows := splitRows()
	rest, held := StratifiedSplit(rows, 0.2, 1)
	if count(held, "x") != 10 || count(held, "y") != 2 || len(rest) != 48 {
		t.Fatalf("split sizes: held x=%d y=%d rest=%d", count(held, "x"), count(held, "y"), len(rest))
	}
	rest2, _ := StratifiedSplit(rows, 0.2, 1)
	for i := range rest {
		if rest[i] != rest2[i] {
			t.Fatal("split is not deterministic")
		}
	}
	var buf bytes.Buffer
	if err := WriteLabeledCSV(&buf, held); err != nil {
		t.Fatal(err)
	}
	back, err := ReadLabeledCSV(&buf)
	if err != nil || len(back) != len(held) {
		t.Fatalf("round trip: %d rows, err %v", len(back), err)
	}
}

func FuzzReadLabeledCSV(f *testing.F) {
	f.Add("text,label\nhi,greet\n")
	f.Fuzz(func(t *testing.T, s string) {
		rows, err := ReadLabeledCSV(strings.NewReader(s))
		if err == nil {
			for _, r := range rows {
				if r.Text == "" {
					t.Fatal("empty text returned")
				}
			}
		}
	})
}

func TestBalancedSplit(t *testing.T) {
	t.Parallel()
	rows := splitRows()
	rest, held := BalancedSplit(rows, 8, 1)
	// x has 50 rows: 8 held out; y has 10: at most half, 5.
	if count(held, "x") != 8 || count(held, "y") != 5 || len(rest) != 47 {
		t.Fatalf("split sizes: held x=%d y=%d rest=%d", count(held, "x"), count(held, "y"), len(rest))
	}
	rest2, held2 := BalancedSplit(rows, 8, 1)
	if !slices.Equal(rest, rest2) || !slices.Equal(held, held2) {
		t.Fatal("split is not deterministic")
	}
	if _, other := BalancedSplit(rows, 8, 2); slices.Equal(held, other) {
		t.Error("another seed held out the same rows")
	}
}

// splitRows are 50 rows labelled x and 10 labelled y, for the split tests.
func splitRows() []LabeledText {
	var rows []LabeledText
	for i := range 50 {
		rows = append(rows, LabeledText{strings.Repeat("a", i+1), "x"})
		if i < 10 {
			rows = append(rows, LabeledText{strings.Repeat("b", i+1), "y"})
		}
	}
	return rows
}

// count is how many of rs carry label l.
func count(rs []LabeledText, l string) int {
	n := 0
	for _, r := range rs {
		if r.Label == l {
			n++
		}
	}
	return n
}
