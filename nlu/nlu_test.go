package nlu_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/llmtest"
	"github.com/tandemhq/tandem/nlu"
	"github.com/tandemhq/tandem/nlu/llm"
)

func setup(t testing.TB) (*nlu.Model, nlu.Config) {
	t.Helper()
	cfg := nlu.Config{
		Seed:     1,
		Patterns: map[string]string{"order_number": `\bA\d{6}\b`},
		Lists:    []nlu.EntityList{{Name: "plan", Values: map[string][]string{"premium": {"gold", "pro plan"}}}},
		Region:   "US",
		Now:      func() time.Time { return time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC) },
	}
	var ex []nlu.Example
	for _, s := range []string{"where is my order", "track my order", "has my package shipped", "order status please", "when does my parcel arrive", "is my delivery late"} {
		ex = append(ex, nlu.Example{Text: s, Intent: "order_status"})
	}
	for _, s := range []string{"I want to upgrade my plan", "switch to premium", "upgrade subscription", "change my plan", "move me to the pro plan", "better plan please"} {
		ex = append(ex, nlu.Example{Text: s, Intent: "upgrade"})
	}
	for _, s := range []string{"what's the weather", "tell me a joke", "who is the president", "play music"} {
		ex = append(ex, nlu.Example{Text: s, Intent: tandem.IntentOutOfScope})
	}
	m, err := nlu.Train(context.Background(), ex, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m, cfg
}

func TestAnalyze(t *testing.T) {
	t.Parallel()
	m, _ := setup(t)
	a := m.Analyze(context.Background(), "Where is my order A123456? I paid with 4111 1111 1111 1111 and it's terrible, call me at 415-555-2671 tomorrow")
	if a.Intent.Name != "order_status" {
		t.Errorf("intent = %+v, want order_status", a.Intent)
	}
	if a.Language != "en" {
		t.Errorf("language = %q, want en", a.Language)
	}
	if a.Sentiment.Label != tandem.SentimentNegative {
		t.Errorf("sentiment = %+v, want negative", a.Sentiment)
	}
	types := map[string]string{}
	for _, e := range a.Entities {
		types[e.Type] = e.Value
	}
	for typ, want := range map[string]string{"order_number": "A123456", "phone": "+14155552671", "date": "2026-11-26"} {
		if types[typ] != want {
			t.Errorf("entity %s = %q, want %q (all: %+v)", typ, types[typ], want, a.Entities)
		}
	}
	if !slices.Contains(a.PII, "card") || !slices.Contains(a.PII, "phone") {
		t.Errorf("pii = %v, want card and phone", a.PII)
	}
	if len(a.Intents) == 0 || a.Intents[0].Name != "order_status" {
		t.Errorf("intents = %+v", a.Intents)
	}
	if got := m.Analyze(context.Background(), "upgrade me to gold").Entities; len(got) != 1 || got[0].Value != "premium" {
		t.Errorf("list entity = %+v, want premium", got)
	}
}

func TestSaveLoad(t *testing.T) {
	t.Parallel()
	m, cfg := setup(t)
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		t.Fatal(err)
	}
	l, err := nlu.Load(bytes.NewReader(buf.Bytes()), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"where is my order", "upgrade to premium", "tell me a joke about cats"} {
		a, b := m.Analyze(context.Background(), s), l.Analyze(context.Background(), s)
		if a.Intent != b.Intent {
			t.Errorf("after Load %q: %+v, want %+v", s, b.Intent, a.Intent)
		}
	}
	if _, err := nlu.Load(bytes.NewReader([]byte("nope")), cfg); !errors.Is(err, nlu.ErrBadModel) {
		t.Errorf("Load(junk) = %v, want ErrBadModel", err)
	}
}

func TestNoExamples(t *testing.T) {
	t.Parallel()
	m, err := nlu.Train(context.Background(), nil, nlu.Config{})
	if err != nil {
		t.Fatal(err)
	}
	a := m.Analyze(context.Background(), "今日は雨が降りますか？")
	if a.Intent.Name != tandem.IntentOutOfScope || a.Language != "ja" {
		t.Errorf("got %+v", a)
	}
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		t.Fatal(err)
	}
	if _, err := nlu.Load(&buf, nlu.Config{}); err != nil {
		t.Fatal(err)
	}
}

func TestErrInvalidPattern(t *testing.T) {
	t.Parallel()
	_, err := nlu.Train(context.Background(), nil, nlu.Config{Patterns: map[string]string{"x": "("}})
	if tandem.ErrorCode(err) != tandem.EINVALID {
		t.Errorf("err = %v, want invalid", err)
	}
}

func TestFallbackLLM(t *testing.T) {
	t.Parallel()
	// An OpenAI-compatible server that always answers "upgrade".
	model := llmtest.New(t, "upgrade").Model(t)
	_, cfg := setup(t)
	cfg.Fallback = llm.New(model)
	cfg.FallbackMargin = 1.01 // always ask
	var ex []nlu.Example
	for _, s := range []string{"where is my order", "track my order", "order status"} {
		ex = append(ex, nlu.Example{Text: s, Intent: "order_status"})
	}
	for _, s := range []string{"upgrade my plan", "switch to premium", "better plan"} {
		ex = append(ex, nlu.Example{Text: s, Intent: "upgrade"})
	}
	m, err := nlu.Train(context.Background(), ex, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Analyze(context.Background(), "where is my order").Intent.Name; got != "upgrade" {
		t.Errorf("with an always-upgrade LLM, intent = %q, want upgrade", got)
	}
}

func TestAnalyzeConcurrent(t *testing.T) {
	t.Parallel()
	m, _ := setup(t)
	want := m.Analyze(context.Background(), "where is my order")
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if got := m.Analyze(context.Background(), "where is my order"); got.Intent != want.Intent {
					t.Errorf("concurrent Analyze = %+v, want %+v", got.Intent, want.Intent)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func FuzzAnalyze(f *testing.F) {
	m, _ := setup(f)
	f.Add("where is my order A123456 tomorrow at 3pm, $20, 415-555-2671")
	f.Add("今日は雨が降りますか？")
	f.Fuzz(func(t *testing.T, s string) {
		a := m.Analyze(context.Background(), s)
		if a.Intent.Name == "" || a.Sentiment.Score < -1 || a.Sentiment.Score > 1 {
			t.Fatalf("bad annotations %+v", a)
		}
		for _, e := range a.Entities {
			if e.Start < 0 || e.End > len(s) || s[e.Start:e.End] != e.Text {
				t.Fatalf("bad entity span %+v", e)
			}
		}
	})
}
