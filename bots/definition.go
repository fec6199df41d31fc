// Package bots holds bot definitions (a folder of YAML files: identity, intents, responses,
// entities, flows, knowledge) with their loader and validator, a Registry of the bots a
// server hosts, and the dialogue Engine that answers each customer message: it resolves the
// customer across channels, runs NLU, applies the ordered policy (relay to a human, active
// flow, intent, knowledge answer, fallback) and persists the turn.
package bots

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tandemhq/tandem/flows"
)

// Definition is a loaded, validated bot folder. It is immutable once loaded.
type Definition struct {
	ID       string
	Name     string
	Language string
	Persona  string

	NLU       NLUConfig
	Knowledge KnowledgeConfig
	Handoff   HandoffConfig
	LLM       *LLMConfig
	Channels  map[string]ChannelConfig
	Actions   ActionsConfig
	Outbound  OutboundConfig
	// FlowTimeout is the inactivity after which an active flow expires (default 30m).
	FlowTimeout time.Duration

	Intents   []Intent
	Responses map[string]*Response
	// Patterns are bot-defined entity regular expressions (source form), by entity name.
	Patterns map[string]string
	// Lists are bot-defined entity lists: list -> canonical value -> synonyms.
	Lists map[string]map[string][]string
	Flows map[string]*flows.Flow
	// SavedReplies are the agents' canned replies (saved_replies.yaml), in file order.
	SavedReplies []SavedReply
	// Glossary lists groups of equivalent terms (synonyms, translations) for query expansion.
	Glossary [][]string
	// KnowledgeFS is the bot's knowledge/ folder (nil when absent), rooted at ".".
	KnowledgeFS fs.FS
	// Vocab is the compiled patterns and lists flows validate slots with.
	Vocab *flows.Vocabulary

	intentIndex map[string]int
}

// NLUConfig tunes the bot's NLU.
type NLUConfig struct {
	Seed int64 `yaml:"seed"`
	// IntentThreshold is the minimum intent confidence; 0 lets NLU choose it on held-out data.
	IntentThreshold float64 `yaml:"intent_threshold"`
	Region          string  `yaml:"region"`
}

// KnowledgeConfig names the collections the bot answers from.
type KnowledgeConfig struct {
	Collections   []string `yaml:"collections"`
	MinConfidence float64  `yaml:"min_confidence"`
	// RequireReview makes the bot's collections' documents go through review before they
	// answer customers; nil (unset) takes the server's knowledge.require_review. See
	// RequiresReview.
	RequireReview *bool `yaml:"require_review"`
}

// HandoffConfig says when the bot hands a conversation to a human.
type HandoffConfig struct {
	Queue                  string   `yaml:"queue"`
	OnRequest              bool     `yaml:"on_request"`
	AfterFailedTurns       int      `yaml:"after_failed_turns"`
	NegativeSentimentTrend float64  `yaml:"negative_sentiment_trend"`
	VIPProfileField        string   `yaml:"vip_profile_field"`
	VIPValues              []string `yaml:"vip_values"`
	// CSAT is the satisfaction survey sent when an agent closes a ticket.
	CSAT CSATConfig `yaml:"csat"`
	// EscalateAfter escalates a ticket to supervisors when it has waited queued this long
	// (YAML escalate_after, a duration; default DefaultEscalateAfter, 0 disables).
	EscalateAfter time.Duration `yaml:"-"`
	// EscalateBelow escalates a ticket when the customer, waiting for or talking to a
	// human, writes a message whose sentiment score is at or below it (YAML
	// escalate_below, in [-1, 0]; default DefaultEscalateBelow, 0 disables).
	EscalateBelow float64 `yaml:"-"`
}

// Defaults of a bot's escalation settings (HandoffConfig).
const (
	DefaultEscalateAfter = 10 * time.Minute
	DefaultEscalateBelow = -0.7
)

// handoffYAML is the handoff section of bot.yaml.
type handoffYAML struct {
	HandoffConfig `yaml:",inline"`
	EscalateAfter string   `yaml:"escalate_after"`
	EscalateBelow *float64 `yaml:"escalate_below"`
}

// LLMConfig selects the bot's own language model for knowledge answers and unsure intents
// (without it the server's, if any, is used). Secrets come only from the environment.
type LLMConfig struct {
	Provider string `yaml:"provider"` // openai (any OpenAI-compatible endpoint) | ollama
	Model    string `yaml:"model"`
	BaseURL  string `yaml:"base_url"`
	// APIKeyEnv names the environment variable holding the API key; it must start with
	// TANDEM_LLM_API_KEY so a bot file cannot send another secret to its base_url. Empty
	// uses the server's TANDEM_LLM_API_KEY when the bot talks to the server's base URL.
	APIKeyEnv string `yaml:"api_key_env"`
}

// llmKeyEnvRE is what llm.api_key_env may name: TANDEM_LLM_API_KEY or a variant of it.
var llmKeyEnvRE = regexp.MustCompile(`^TANDEM_LLM_API_KEY(_[A-Z0-9_]+)?$`)

// ActionsConfig configures flow HTTP actions.
type ActionsConfig struct {
	// SecretEnv names the environment variable holding the HMAC secret that signs action
	// requests (default TANDEM_ACTION_SECRET_<ID>, ID upper-cased with - as _; when unset,
	// TANDEM_ACTION_SECRET).
	SecretEnv string `yaml:"secret_env"`
}

// OutboundConfig limits proactive messages.
type OutboundConfig struct {
	// QuietHours is "HH:MM-HH:MM" in Timezone during which no proactive message is sent.
	QuietHours string `yaml:"quiet_hours"`
	Timezone   string `yaml:"timezone"`
	// MaxPerDay caps proactive messages per conversation per day (default 3; -1 unlimited).
	MaxPerDay int `yaml:"max_per_day"`
	// OptOutField is the profile field that, when truthy, blocks proactive messages
	// (default opt_out).
	OptOutField string `yaml:"opt_out_field"`

	quietFrom, quietTo int // minutes of the day; equal means none
	loc                *time.Location
}

// Intent is one intent with its training examples and what it triggers.
type Intent struct {
	Name     string
	Examples []string
	Response string // a named response
	Flow     string // a flow to start
	Handoff  bool   // hand off to a human
	Line     int
}

// Knowledge reports whether the intent is answered from the knowledge base.
func (in *Intent) Knowledge() bool { return in.Response == "" && in.Flow == "" && !in.Handoff }

// Response is a named response with its variations.
type Response struct {
	Name       string
	Variations []Variation
}

// Variation is one way of saying a response.
type Variation struct {
	Text         *flows.Template
	QuickReplies []string
}

// Intent returns the named intent.
func (d *Definition) Intent(name string) (*Intent, bool) {
	i, ok := d.intentIndex[name]
	if !ok {
		return nil, false
	}
	return &d.Intents[i], true
}

// Reserved response names the engine uses when the bot defines them.
const (
	ResponseFallbackClarify    = "fallback_clarify"
	ResponseFallbackOfferHuman = "fallback_offer_human"
	ResponseHandoffStarted     = "handoff_started"
	ResponseFlowCancelled      = "flow_cancelled"
	ResponseFlowExpired        = "flow_expired"
	ResponseGreet              = "greet"
)

type botYAML struct {
	ID        string                   `yaml:"id"`
	Name      string                   `yaml:"name"`
	Language  string                   `yaml:"language"`
	Persona   string                   `yaml:"persona"`
	NLU       NLUConfig                `yaml:"nlu"`
	Knowledge KnowledgeConfig          `yaml:"knowledge"`
	Handoff   handoffYAML              `yaml:"handoff"`
	LLM       *LLMConfig               `yaml:"llm"`
	Channels  map[string]ChannelConfig `yaml:"channels"`
	Actions   ActionsConfig            `yaml:"actions"`
	Outbound  OutboundConfig           `yaml:"outbound"`
	FlowTO    string                   `yaml:"flow_timeout"`
}

type intentsYAML struct {
	Intents []struct {
		Name      string   `yaml:"name"`
		Examples  []string `yaml:"examples"`
		Response  string   `yaml:"response"`
		Flow      string   `yaml:"flow"`
		Knowledge bool     `yaml:"knowledge"`
		Handoff   bool     `yaml:"handoff"`
	} `yaml:"intents"`
}

type responsesYAML struct {
	Responses map[string][]struct {
		Text         string   `yaml:"text"`
		QuickReplies []string `yaml:"quick_replies"`
	} `yaml:"responses"`
}

type entitiesYAML struct {
	Patterns map[string]string              `yaml:"patterns"`
	Lists    map[string]map[string][]string `yaml:"lists"`
}

type glossaryYAML struct {
	Terms [][]string `yaml:"terms"`
}

var botIDRE = regexp.MustCompile(`^[a-z0-9_-]+$`)

// loader accumulates problems so one validation run reports all of them.
type loader struct {
	fsys fs.FS
	dir  string
	errs []error
}

func (l *loader) errorf(file string, line int, field, format string, args ...any) {
	l.errs = append(l.errs, fmt.Errorf("%s:%d: %s: %s", file, line, field, fmt.Sprintf(format, args...)))
}

// read parses file (relative to the bot folder) strictly into v and returns its root node;
// ok is false when the file is absent and optional.
func (l *loader) read(file string, v any, required bool) (*yaml.Node, bool) {
	p := path.Join(l.dir, file)
	data, err := fs.ReadFile(l.fsys, p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !required {
			return nil, false
		}
		l.errs = append(l.errs, fmt.Errorf("%s: %w", p, err))
		return nil, false
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		l.errs = append(l.errs, fmt.Errorf("%s: %w", p, err))
		return nil, false
	}
	if len(root.Content) == 0 {
		return &root, true // empty file
	}
	if err := flows.StrictDecode(p, &root, v); err != nil {
		l.errs = append(l.errs, err)
		return nil, false
	}
	return &root, true
}

// Load reads and validates the bot folder dir of fsys. The error lists every problem found,
// each as "file:line: field: message".
func Load(fsys fs.FS, dir string) (*Definition, error) {
	l := &loader{fsys: fsys, dir: dir}
	d := &Definition{Responses: map[string]*Response{}, Flows: map[string]*flows.Flow{},
		Patterns: map[string]string{}, Lists: map[string]map[string][]string{}}
	l.loadBot(d)
	l.loadEntities(d)
	l.loadResponses(d)
	l.loadFlows(d)
	l.loadIntents(d)
	l.loadSavedReplies(d)
	var gy glossaryYAML
	if _, ok := l.read("glossary.yaml", &gy, false); ok {
		d.Glossary = gy.Terms
	}
	kdir := path.Join(dir, "knowledge")
	if st, err := fs.Stat(fsys, kdir); err == nil && st.IsDir() {
		sub, err := fs.Sub(fsys, kdir)
		if err != nil {
			l.errs = append(l.errs, fmt.Errorf("%s: %w", kdir, err))
		}
		d.KnowledgeFS = sub
	}
	if len(l.errs) > 0 {
		return nil, fmt.Errorf("bot %s: %w", dir, errors.Join(l.errs...))
	}
	return d, nil
}

func (l *loader) loadBot(d *Definition) {
	file := path.Join(l.dir, "bot.yaml")
	var by botYAML
	root, ok := l.read("bot.yaml", &by, true)
	if !ok {
		return
	}
	line := func(keys ...string) int {
		n := root
		ln := 1
		for _, k := range keys {
			if x := flows.FieldLine(n, k); x > 0 {
				ln = x
			}
			n = flows.FieldNode(n, k)
		}
		return ln
	}
	d.ID, d.Name, d.Language, d.Persona = by.ID, by.Name, by.Language, by.Persona
	d.NLU, d.Knowledge, d.Handoff, d.LLM, d.Channels = by.NLU, by.Knowledge, by.Handoff.HandoffConfig, by.LLM, by.Channels
	d.Actions, d.Outbound = by.Actions, by.Outbound
	if !botIDRE.MatchString(d.ID) {
		l.errorf(file, line("id"), "id", "must match [a-z0-9_-]+, got %q", d.ID)
	}
	if d.Name == "" {
		d.Name = d.ID
	}
	if d.Language == "" {
		d.Language = "en"
	}
	if d.NLU.IntentThreshold < 0 || d.NLU.IntentThreshold >= 1 {
		l.errorf(file, line("nlu", "intent_threshold"), "nlu.intent_threshold", "must be in [0, 1)")
	}
	if len(d.Knowledge.Collections) == 0 && d.ID != "" {
		d.Knowledge.Collections = []string{d.ID}
	}
	if d.Handoff.Queue == "" {
		d.Handoff.Queue = "default"
	}
	if d.Handoff.AfterFailedTurns < 0 {
		l.errorf(file, line("handoff", "after_failed_turns"), "handoff.after_failed_turns", "must not be negative")
	}
	if d.Handoff.NegativeSentimentTrend > 0 || d.Handoff.NegativeSentimentTrend < -1 {
		l.errorf(file, line("handoff", "negative_sentiment_trend"), "handoff.negative_sentiment_trend", "must be in [-1, 0] (0 disables)")
	}
	if (d.Handoff.VIPProfileField == "") != (len(d.Handoff.VIPValues) == 0) {
		l.errorf(file, line("handoff", "vip_profile_field"), "handoff.vip_profile_field", "vip_profile_field and vip_values go together")
	}
	l.checkCSAT(file, line, &d.Handoff.CSAT)
	d.Handoff.EscalateAfter = DefaultEscalateAfter
	if raw := by.Handoff.EscalateAfter; raw != "" {
		if v, err := time.ParseDuration(raw); err != nil || v < 0 {
			l.errorf(file, line("handoff", "escalate_after"), "handoff.escalate_after", "must be a duration such as 10m (0 disables), got %q", raw)
		} else {
			d.Handoff.EscalateAfter = v
		}
	}
	d.Handoff.EscalateBelow = DefaultEscalateBelow
	if v := by.Handoff.EscalateBelow; v != nil {
		if *v > 0 || *v < -1 {
			l.errorf(file, line("handoff", "escalate_below"), "handoff.escalate_below", "must be in [-1, 0] (0 disables), got %g", *v)
		} else {
			d.Handoff.EscalateBelow = *v
		}
	}
	if d.LLM != nil {
		switch d.LLM.Provider {
		case "openai", "ollama":
		default:
			l.errorf(file, line("llm", "provider"), "llm.provider", "must be openai or ollama, got %q", d.LLM.Provider)
		}
		if u, err := url.Parse(d.LLM.BaseURL); d.LLM.BaseURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
			l.errorf(file, line("llm", "base_url"), "llm.base_url", "must be an http(s) URL, got %q", d.LLM.BaseURL)
		}
		if k := d.LLM.APIKeyEnv; k != "" && !llmKeyEnvRE.MatchString(k) {
			l.errorf(file, line("llm", "api_key_env"), "llm.api_key_env", "must be TANDEM_LLM_API_KEY or start with TANDEM_LLM_API_KEY_ (upper case), got %q", k)
		}
	}
	l.checkChannels(file, line, d.Channels)
	d.FlowTimeout = 30 * time.Minute
	if by.FlowTO != "" {
		t, err := time.ParseDuration(by.FlowTO)
		if err != nil || t <= 0 {
			l.errorf(file, line("flow_timeout"), "flow_timeout", "bad duration %q", by.FlowTO)
		} else {
			d.FlowTimeout = t
		}
	}
	o := &d.Outbound
	if o.MaxPerDay == 0 {
		o.MaxPerDay = 3
	}
	if o.OptOutField == "" {
		o.OptOutField = "opt_out"
	}
	o.loc = time.UTC
	if o.Timezone != "" {
		loc, err := time.LoadLocation(o.Timezone)
		if err != nil {
			l.errorf(file, line("outbound", "timezone"), "outbound.timezone", "unknown time zone %q", o.Timezone)
		} else {
			o.loc = loc
		}
	}
	if o.QuietHours != "" {
		from, to, ok := parseQuietHours(o.QuietHours)
		if !ok {
			l.errorf(file, line("outbound", "quiet_hours"), "outbound.quiet_hours", "want HH:MM-HH:MM, got %q", o.QuietHours)
		}
		o.quietFrom, o.quietTo = from, to
	}
}

func parseQuietHours(s string) (from, to int, ok bool) {
	a, b, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, false
	}
	pa, err1 := time.Parse("15:04", strings.TrimSpace(a))
	pb, err2 := time.Parse("15:04", strings.TrimSpace(b))
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return pa.Hour()*60 + pa.Minute(), pb.Hour()*60 + pb.Minute(), true
}

// quiet reports whether t falls in the quiet hours.
func (o *OutboundConfig) quiet(t time.Time) bool {
	if o.quietFrom == o.quietTo {
		return false
	}
	loc := o.loc
	if loc == nil {
		loc = time.UTC
	}
	lt := t.In(loc)
	m := lt.Hour()*60 + lt.Minute()
	if o.quietFrom < o.quietTo {
		return m >= o.quietFrom && m < o.quietTo
	}
	return m >= o.quietFrom || m < o.quietTo
}

func (l *loader) loadEntities(d *Definition) {
	file := path.Join(l.dir, "entities.yaml")
	var ey entitiesYAML
	root, ok := l.read("entities.yaml", &ey, false)
	d.Vocab = &flows.Vocabulary{Patterns: map[string]*regexp.Regexp{}, Lists: map[string]map[string][]string{}}
	if !ok {
		return
	}
	for name, src := range ey.Patterns {
		re, err := regexp.Compile(src)
		if err != nil {
			l.errorf(file, flows.FieldLine(flows.FieldNode(root, "patterns"), name), "patterns."+name, "bad regular expression: %v", err)
			continue
		}
		d.Patterns[name] = src
		d.Vocab.Patterns[name] = re
	}
	for name, values := range ey.Lists {
		if _, dup := d.Patterns[name]; dup {
			l.errorf(file, flows.FieldLine(flows.FieldNode(root, "lists"), name), "lists."+name, "name also used by a pattern")
		}
		d.Lists[name] = values
		d.Vocab.Lists[name] = values
	}
}

func (l *loader) loadResponses(d *Definition) {
	file := path.Join(l.dir, "responses.yaml")
	var ry responsesYAML
	root, ok := l.read("responses.yaml", &ry, false)
	if !ok {
		return
	}
	rn := flows.FieldNode(root, "responses")
	for name, vars := range ry.Responses {
		ln := flows.FieldLine(rn, name)
		if len(vars) == 0 {
			l.errorf(file, ln, "responses."+name, "needs at least one variation")
			continue
		}
		r := &Response{Name: name}
		for i, v := range vars {
			field := fmt.Sprintf("responses.%s[%d].text", name, i)
			if strings.TrimSpace(v.Text) == "" {
				l.errorf(file, ln, field, "empty text")
				continue
			}
			t, err := flows.ParseTemplate(name, v.Text)
			if err != nil {
				l.errorf(file, ln, field, "%v", err)
				continue
			}
			r.Variations = append(r.Variations, Variation{Text: t, QuickReplies: v.QuickReplies})
		}
		d.Responses[name] = r
	}
}

func (l *loader) loadFlows(d *Definition) {
	dir := path.Join(l.dir, "flows")
	entries, err := fs.ReadDir(l.fsys, dir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			l.errs = append(l.errs, fmt.Errorf("%s: %w", dir, err))
		}
		return
	}
	for _, e := range entries {
		if e.IsDir() || !(strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml")) {
			continue
		}
		p := path.Join(dir, e.Name())
		data, err := fs.ReadFile(l.fsys, p)
		if err != nil {
			l.errs = append(l.errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		f, err := flows.Parse(p, data, d.Vocab)
		if err != nil {
			l.errs = append(l.errs, err)
			continue
		}
		if prev, dup := d.Flows[f.Name]; dup {
			l.errorf(p, 1, "name", "flow %q already defined in %s", f.Name, prev.File)
			continue
		}
		d.Flows[f.Name] = f
	}
}

func (l *loader) loadIntents(d *Definition) {
	file := path.Join(l.dir, "intents.yaml")
	var iy intentsYAML
	root, ok := l.read("intents.yaml", &iy, true)
	if !ok {
		return
	}
	seq := flows.FieldNode(root, "intents")
	d.intentIndex = make(map[string]int, len(iy.Intents))
	for i, y := range iy.Intents {
		n := seq.Content[i]
		fl := func(f string) int {
			if x := flows.FieldLine(n, f); x > 0 {
				return x
			}
			return n.Line
		}
		prefix := fmt.Sprintf("intents[%d]", i)
		if y.Name == "" {
			l.errorf(file, n.Line, prefix+".name", "required")
			continue
		}
		prefix = "intents." + y.Name
		if _, dup := d.intentIndex[y.Name]; dup {
			l.errorf(file, fl("name"), prefix, "duplicate intent")
			continue
		}
		in := Intent{Name: y.Name, Examples: y.Examples, Response: y.Response, Flow: y.Flow, Handoff: y.Handoff, Line: n.Line}
		if len(in.Examples) == 0 {
			l.errorf(file, fl("examples"), prefix+".examples", "needs at least one example")
		}
		set := 0
		for _, b := range []bool{y.Response != "", y.Flow != "", y.Handoff, y.Knowledge} {
			if b {
				set++
			}
		}
		if set > 1 {
			l.errorf(file, n.Line, prefix, "set only one of response, flow, knowledge, handoff")
		}
		if y.Response != "" {
			if _, ok := d.Responses[y.Response]; !ok {
				l.errorf(file, fl("response"), prefix+".response", "no response %q in responses.yaml", y.Response)
			}
		}
		if y.Flow != "" {
			if _, ok := d.Flows[y.Flow]; !ok {
				l.errorf(file, fl("flow"), prefix+".flow", "no flow %q in flows/ (have %s)", y.Flow, strings.Join(sortedKeys(d.Flows), ", "))
			}
		}
		d.intentIndex[y.Name] = len(d.Intents)
		d.Intents = append(d.Intents, in)
	}
	if len(d.Intents) == 0 {
		l.errorf(file, 1, "intents", "a bot needs at least one intent")
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
