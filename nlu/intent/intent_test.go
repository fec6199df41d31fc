package intent

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"testing"
)

var english = []Example{
	{"where is my order", "order_status"}, {"has my package shipped", "order_status"},
	{"track my parcel", "order_status"}, {"when will my order arrive", "order_status"},
	{"my delivery is late", "order_status"}, {"status of order A123456", "order_status"},
	{"I want a refund", "refund"}, {"give me my money back", "refund"},
	{"how do I return this item", "refund"}, {"refund my purchase please", "refund"},
	{"can I get reimbursed", "refund"}, {"return policy for shoes", "refund"},
	{"talk to a human", "agent"}, {"I want to speak to an agent", "agent"},
	{"connect me with a person", "agent"}, {"real person please", "agent"},
	{"customer service representative", "agent"}, {"let me talk to someone", "agent"},
	{"change my password", "password"}, {"I forgot my password", "password"},
	{"reset password", "password"}, {"can't log in to my account", "password"},
	{"how do I update my login", "password"}, {"locked out of my account", "password"},
}

func TestPredict(t *testing.T) {
	t.Parallel()
	c, err := Train(context.Background(), english, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ text, want string }{
		{"where's my order?", "order_status"},
		{"i would like my money back", "refund"},
		{"can I speak with a human agent", "agent"},
		{"I forgot the password to my account", "password"},
	}
	for _, tt := range tests {
		got := c.Predict(tt.text, 3)
		if len(got.Top) == 0 || got.Top[0].Name != tt.want {
			t.Errorf("Predict(%q) top = %+v, want %s", tt.text, got.Top, tt.want)
		}
		if len(got.Top) != 3 || got.Top[0].Confidence < got.Top[1].Confidence {
			t.Errorf("Predict(%q) top candidates not sorted: %+v", tt.text, got.Top)
		}
	}
	if got := c.Predict("!!!", 3); got.Intent != OutOfScope {
		t.Errorf("no known features: intent %q, want %q", got.Intent, OutOfScope)
	}
}

func TestOutOfScopeExamples(t *testing.T) {
	t.Parallel()
	ex := append([]Example(nil), english...)
	for _, s := range []string{"what's the weather like", "tell me a joke", "who won the game last night",
		"play some music", "what is the capital of peru", "how tall is mount everest", "recipe for pancakes",
		"set an alarm for 7", "what's 2 plus 2", "translate hello to french"} {
		ex = append(ex, Example{s, OutOfScope})
	}
	c, err := Train(context.Background(), ex, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Predict("what's the weather tomorrow", 3); got.Intent != OutOfScope {
		t.Errorf("weather: intent %q, want %q", got.Intent, OutOfScope)
	}
	for _, in := range c.Intents() {
		if in == OutOfScope {
			t.Errorf("Intents() lists %q", OutOfScope)
		}
	}
}

func TestDeterministicAndSaveLoad(t *testing.T) {
	t.Parallel()
	save := func(c *Classifier) []byte {
		var b bytes.Buffer
		if err := c.Save(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a, err := Train(context.Background(), english, Options{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Train(context.Background(), english, Options{Seed: 7, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	sa, sb := save(a), save(b)
	if !bytes.Equal(sa, sb) {
		t.Fatal("two trainings with the same seed differ")
	}
	l, err := Load(bytes.NewReader(sa))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range english {
		pa, pl := a.Predict(e.Text, 2), l.Predict(e.Text, 2)
		if pa.Intent != pl.Intent || pa.Confidence != pl.Confidence {
			t.Errorf("after Load %q = %+v, want %+v", e.Text, pl, pa)
		}
	}
	if _, err := Load(bytes.NewReader([]byte("junk"))); err == nil {
		t.Error("Load(junk): want error")
	}
	if _, err := Train(context.Background(), nil, Options{}); err == nil {
		t.Error("Train(nil): want error")
	}
}

// TestJapanese trains on half of the xSID Japanese dev set (written without spaces) and checks
// the other half; the file is read from TANDEM_XSID_JA (default ../shared/data/xsid_ja/dev.csv
// from the repository root) and the test is skipped when it is absent.
func TestJapanese(t *testing.T) {
	t.Parallel()
	path := os.Getenv("TANDEM_XSID_JA")
	if path == "" {
		path = "../../../shared/data/xsid_ja/dev.csv"
	}
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("xsid_ja not available: %v", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var train, test []Example
	for i, r := range rows[1:] {
		e := Example{r[0], r[1]}
		if i%2 == 0 {
			train = append(train, e)
		} else {
			test = append(test, e)
		}
	}
	c, err := Train(context.Background(), train, Options{Seed: 1, OOSRate: -1})
	if err != nil {
		t.Fatal(err)
	}
	ok := 0
	for _, e := range test {
		if c.Predict(e.Text, 1).Intent == e.Intent {
			ok++
		}
	}
	acc := float64(ok) / float64(len(test))
	t.Logf("xsid_ja accuracy %.3f on %d", acc, len(test))
	if acc < 0.8 {
		t.Errorf("Japanese accuracy %.3f, want >= 0.8", acc)
	}
}
