// Package flows holds declarative conversation flows: a flow is a list of steps (say, ask a
// slot, branch, call an HTTP action, set profile fields, hand off, end) parsed from YAML and
// executed by a Runner that takes the flow state and the customer's input and returns the
// replies and the new state. The Runner needs no store, so flows are testable in isolation;
// the dialogue engine (package bots) persists the state between turns.
package flows

import (
	"bytes"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"text/template"
	"time"

	"gopkg.in/yaml.v3"
)

// Flow is a parsed, validated flow. It is immutable and safe for concurrent use.
type Flow struct {
	Name        string
	Description string
	File        string
	Steps       []*Step
	index       map[string]int
}

// Step is one step of a flow. A step may combine several actions; they run in the order
// set_profile, say, action, if, ask, handoff, end/goto.
type Step struct {
	ID   string
	Line int

	Say          *Template
	QuickReplies []string

	Ask         string // slot name
	Type        string // slot type
	Prompt      *Template
	Reprompt    *Template
	MaxAttempts int

	If   *Template
	Then string
	Else string

	Action *Action

	SetProfile map[string]*Template

	// LinkIdentity sends a one-time code to an identity, or with Code verifies it and links
	// the identity to the conversation's customer.
	LinkIdentity *LinkIdentity
	// OnError is the step to go to when the link_identity (or an action without its own
	// on_error) fails.
	OnError string

	Handoff bool
	Goto    string
	End     bool
}

// Action is an HTTP call made by a step.
type Action struct {
	Method  string
	URL     *Template
	Headers map[string]*Template
	Body    map[string]*Template
	Timeout time.Duration
	Retries int
	Save    map[string]string // slot -> JSON path ($.a.b[0])
	OnError string            // step id
}

// StepByID returns the step with id and its index.
func (f *Flow) StepByID(id string) (*Step, int, bool) {
	i, ok := f.index[id]
	if !ok {
		return nil, 0, false
	}
	return f.Steps[i], i, true
}

// LinkIdentity proves a customer owns an identity (an email address, a phone number).
type LinkIdentity struct {
	Channel string
	Address *Template
	Code    *Template // nil: send a code; set: verify it and link
}

// Template is a parsed text/template; text without actions is kept as a plain string so
// rendering it costs nothing.
type Template struct {
	Source string
	tmpl   *template.Template
}

// ParseTemplate parses src once; name appears in errors.
func ParseTemplate(name, src string) (*Template, error) {
	t := &Template{Source: src}
	if !strings.Contains(src, "{{") {
		return t, nil
	}
	tt, err := template.New(name).Option("missingkey=zero").Parse(src)
	if err != nil {
		return nil, err
	}
	t.tmpl = tt
	return t, nil
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Render executes the template over data. A nil template renders "".
func (t *Template) Render(data any) (string, error) {
	if t == nil {
		return "", nil
	}
	if t.tmpl == nil {
		return t.Source, nil
	}
	b := bufPool.Get().(*bytes.Buffer)
	b.Reset()
	defer bufPool.Put(b)
	if err := t.tmpl.Execute(b, data); err != nil {
		return "", err
	}
	return strings.ReplaceAll(b.String(), "<no value>", ""), nil
}

// Slot types understood by ask steps besides pattern and list types.
var builtinTypes = map[string]bool{
	"text": true, "number": true, "email": true, "phone": true, "date": true, "money": true, "yesno": true,
}

// Vocabulary is what a bot defines that flows may refer to: entity patterns and lists.
type Vocabulary struct {
	Patterns map[string]*regexp.Regexp
	Lists    map[string]map[string][]string // list -> canonical value -> synonyms
}

// KnownType reports whether typ is a slot type the vocabulary can validate.
func (v *Vocabulary) KnownType(typ string) bool {
	if builtinTypes[typ] {
		return true
	}
	if name, ok := strings.CutPrefix(typ, "list:"); ok {
		_, ok := v.Lists[name]
		return ok
	}
	_, ok := v.Patterns[typ]
	return ok
}

// yaml shapes

type flowYAML struct {
	Name        string     `yaml:"name"`
	Description string     `yaml:"description"`
	Steps       []stepYAML `yaml:"steps"`
}

type stepYAML struct {
	ID           string            `yaml:"id"`
	Say          string            `yaml:"say"`
	QuickReplies []string          `yaml:"quick_replies"`
	Ask          string            `yaml:"ask"`
	Type         string            `yaml:"type"`
	Prompt       string            `yaml:"prompt"`
	Reprompt     string            `yaml:"reprompt"`
	MaxAttempts  int               `yaml:"max_attempts"`
	If           string            `yaml:"if"`
	Then         string            `yaml:"then"`
	Else         string            `yaml:"else"`
	Action       *actionYAML       `yaml:"action"`
	SetProfile   map[string]string `yaml:"set_profile"`
	LinkIdentity *linkYAML         `yaml:"link_identity"`
	OnError      string            `yaml:"on_error"`
	Handoff      bool              `yaml:"handoff"`
	Goto         string            `yaml:"goto"`
	End          bool              `yaml:"end"`
}

type linkYAML struct {
	Channel string `yaml:"channel"`
	Address string `yaml:"address"`
	Code    string `yaml:"code"`
}

type actionYAML struct {
	Method  string            `yaml:"method"`
	URL     string            `yaml:"url"`
	Headers map[string]string `yaml:"headers"`
	Body    map[string]string `yaml:"body"`
	Timeout string            `yaml:"timeout"`
	Retries int               `yaml:"retries"`
	Save    map[string]string `yaml:"save"`
	OnError string            `yaml:"on_error"`
}

var idRE = regexp.MustCompile(`^[a-z0-9_-]+$`)

// Parse parses and validates one flow file. Errors name the file, the line and the field.
// vocab, when non-nil, checks that ask types refer to known patterns and lists.
func Parse(file string, data []byte, vocab *Vocabulary) (*Flow, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var fy flowYAML
	if err := StrictDecode(file, &root, &fy); err != nil {
		return nil, err
	}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		doc = doc.Content[0]
	}
	errf := func(line int, field, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s: %s", file, line, field, fmt.Sprintf(format, args...))
	}
	f := &Flow{Name: fy.Name, Description: fy.Description, File: file, index: make(map[string]int, len(fy.Steps))}
	if !idRE.MatchString(f.Name) {
		return nil, errf(FieldLine(doc, "name"), "name", "must match [a-z0-9_-]+, got %q", f.Name)
	}
	stepsNode := FieldNode(doc, "steps")
	if len(fy.Steps) == 0 || stepsNode == nil {
		return nil, errf(doc.Line, "steps", "a flow needs at least one step")
	}
	for i, sy := range fy.Steps {
		sn := stepsNode.Content[i]
		line := sn.Line
		fl := func(field string) int {
			if l := FieldLine(sn, field); l > 0 {
				return l
			}
			return line
		}
		if sy.ID == "" {
			sy.ID = fmt.Sprintf("step%d", i+1)
		}
		if _, dup := f.index[sy.ID]; dup {
			return nil, errf(fl("id"), "id", "duplicate step id %q", sy.ID)
		}
		st := &Step{ID: sy.ID, Line: line, QuickReplies: sy.QuickReplies, Ask: sy.Ask, Type: sy.Type,
			MaxAttempts: sy.MaxAttempts, Then: sy.Then, Else: sy.Else, Handoff: sy.Handoff, Goto: sy.Goto, End: sy.End,
			OnError: sy.OnError}
		tmpl := func(field, src string) (*Template, error) {
			if src == "" {
				return nil, nil
			}
			t, err := ParseTemplate(f.Name+"."+sy.ID+"."+field, src)
			if err != nil {
				return nil, errf(fl(field), field, "%v", err)
			}
			return t, nil
		}
		var err error
		if st.Say, err = tmpl("say", sy.Say); err != nil {
			return nil, err
		}
		if st.Prompt, err = tmpl("prompt", sy.Prompt); err != nil {
			return nil, err
		}
		if st.Reprompt, err = tmpl("reprompt", sy.Reprompt); err != nil {
			return nil, err
		}
		if st.If, err = tmpl("if", sy.If); err != nil {
			return nil, err
		}
		if sy.If != "" && sy.Then == "" && sy.Else == "" {
			return nil, errf(fl("if"), "if", "needs then or else")
		}
		if (sy.Then != "" || sy.Else != "") && sy.If == "" {
			return nil, errf(line, "then", "then/else need an if")
		}
		if st.Ask != "" {
			if st.Prompt == nil {
				return nil, errf(fl("ask"), "prompt", "an ask step needs a prompt")
			}
			if st.Type == "" {
				st.Type = "text"
			}
			if vocab != nil && !vocab.KnownType(st.Type) {
				return nil, errf(fl("type"), "type", "unknown slot type %q (text, number, email, phone, date, money, yesno, list:<name> or a pattern from entities.yaml)", st.Type)
			}
			if st.MaxAttempts <= 0 {
				st.MaxAttempts = 3
			}
		} else if sy.Type != "" || sy.Prompt != "" || sy.Reprompt != "" || sy.MaxAttempts != 0 {
			return nil, errf(line, "ask", "type/prompt/reprompt/max_attempts need an ask")
		}
		if len(sy.SetProfile) > 0 {
			st.SetProfile = make(map[string]*Template, len(sy.SetProfile))
			for k, v := range sy.SetProfile {
				if st.SetProfile[k], err = ParseTemplate(f.Name+"."+sy.ID+".set_profile."+k, v); err != nil {
					return nil, errf(fl("set_profile"), "set_profile."+k, "%v", err)
				}
			}
		}
		if sy.Action != nil {
			an := FieldNode(sn, "action")
			if st.Action, err = parseAction(f.Name+"."+sy.ID, sy.Action, func(field, format string, args ...any) error {
				l := FieldLine(an, field)
				if l == 0 {
					l = fl("action")
				}
				return errf(l, "action."+field, format, args...)
			}); err != nil {
				return nil, err
			}
		}
		if ly := sy.LinkIdentity; ly != nil {
			ln := FieldNode(sn, "link_identity")
			lf := func(field string) int {
				if l := FieldLine(ln, field); l > 0 {
					return l
				}
				return fl("link_identity")
			}
			switch ly.Channel {
			case "email", "sms", "whatsapp", "webchat", "slack", "discord", "rest":
			default:
				return nil, errf(lf("channel"), "link_identity.channel", "unknown channel %q", ly.Channel)
			}
			if ly.Address == "" {
				return nil, errf(lf("address"), "link_identity.address", "required")
			}
			li := &LinkIdentity{Channel: ly.Channel}
			if li.Address, err = ParseTemplate(f.Name+"."+sy.ID+".address", ly.Address); err != nil {
				return nil, errf(lf("address"), "link_identity.address", "%v", err)
			}
			if ly.Code != "" {
				if li.Code, err = ParseTemplate(f.Name+"."+sy.ID+".code", ly.Code); err != nil {
					return nil, errf(lf("code"), "link_identity.code", "%v", err)
				}
			}
			st.LinkIdentity = li
		}
		if sy.OnError != "" && st.LinkIdentity == nil && st.Action == nil {
			return nil, errf(fl("on_error"), "on_error", "on_error needs an action or link_identity")
		}
		if st.Say == nil && st.Ask == "" && st.LinkIdentity == nil && st.If == nil && st.Action == nil && st.SetProfile == nil && !st.Handoff && !st.End && st.Goto == "" {
			return nil, errf(line, "step", "step %q does nothing (say, ask, if, action, set_profile, handoff, goto or end)", st.ID)
		}
		f.index[st.ID] = i
		f.Steps = append(f.Steps, st)
	}
	// References are checked once every id is known.
	for i, st := range f.Steps {
		sn := stepsNode.Content[i]
		refs := map[string]string{"then": st.Then, "else": st.Else, "goto": st.Goto, "on_error": st.OnError}
		if st.Action != nil {
			refs["action.on_error"] = st.Action.OnError
		}
		for field, ref := range refs {
			if ref == "" {
				continue
			}
			if _, ok := f.index[ref]; !ok {
				l := FieldLine(sn, field)
				if field == "action.on_error" {
					l = FieldLine(FieldNode(sn, "action"), "on_error")
				}
				if l == 0 {
					l = sn.Line
				}
				return nil, errf(l, field, "no step %q in flow %s", ref, f.Name)
			}
		}
	}
	return f, nil
}

func parseAction(name string, ay *actionYAML, errf func(field, format string, args ...any) error) (*Action, error) {
	a := &Action{Method: strings.ToUpper(ay.Method), Retries: ay.Retries, Save: ay.Save, OnError: ay.OnError, Timeout: 5 * time.Second}
	if a.Method == "" {
		a.Method = "GET"
		if len(ay.Body) > 0 {
			a.Method = "POST"
		}
	}
	switch a.Method {
	case "GET", "POST", "PUT", "PATCH", "DELETE":
	default:
		return nil, errf("method", "unsupported method %q", ay.Method)
	}
	if ay.URL == "" {
		return nil, errf("url", "an action needs a url")
	}
	var err error
	if a.URL, err = ParseTemplate(name+".url", ay.URL); err != nil {
		return nil, errf("url", "%v", err)
	}
	if ay.Timeout != "" {
		if a.Timeout, err = time.ParseDuration(ay.Timeout); err != nil || a.Timeout <= 0 {
			return nil, errf("timeout", "bad duration %q", ay.Timeout)
		}
	}
	if a.Retries < 0 || a.Retries > 10 {
		return nil, errf("retries", "must be between 0 and 10")
	}
	for field, m := range map[string]map[string]string{"headers": ay.Headers, "body": ay.Body} {
		if len(m) == 0 {
			continue
		}
		out := make(map[string]*Template, len(m))
		for k, v := range m {
			if out[k], err = ParseTemplate(name+"."+field+"."+k, v); err != nil {
				return nil, errf(field, "%s: %v", k, err)
			}
		}
		if field == "headers" {
			a.Headers = out
		} else {
			a.Body = out
		}
	}
	for slot, path := range a.Save {
		if !strings.HasPrefix(path, "$") {
			return nil, errf("save", "%s: JSON path must start with $, got %q", slot, path)
		}
	}
	return a, nil
}

// StrictDecode decodes node into v, rejecting mapping keys that v's type does not declare.
// Errors read "file:line: field: message".
func StrictDecode(file string, node *yaml.Node, v any) error {
	if err := checkFields(file, "", node, reflect.TypeOf(v)); err != nil {
		return err
	}
	if err := node.Decode(v); err != nil {
		if te, ok := err.(*yaml.TypeError); ok && len(te.Errors) > 0 {
			return fmt.Errorf("%s:%s", file, strings.TrimPrefix(te.Errors[0], "line "))
		}
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

func checkFields(file, path string, n *yaml.Node, t reflect.Type) error {
	if n == nil {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return checkFields(file, path, n.Content[0], t)
	case yaml.AliasNode:
		return checkFields(file, path, n.Alias, t)
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) || t == reflect.TypeOf(yaml.Node{}) {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return nil // Decode reports the type error
		}
		fields := make(map[string]reflect.Type, t.NumField())
		yamlFields(t, fields)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			ft, ok := fields[k.Value]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			if !ok {
				known := make([]string, 0, len(fields))
				for name := range fields {
					known = append(known, name)
				}
				return fmt.Errorf("%s:%d: %s: unknown field (known: %s)", file, k.Line, p, strings.Join(sortStrings(known), ", "))
			}
			if err := checkFields(file, p, n.Content[i+1], ft); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if n.Kind == yaml.SequenceNode {
			for i, c := range n.Content {
				if err := checkFields(file, fmt.Sprintf("%s[%d]", path, i), c, t.Elem()); err != nil {
					return err
				}
			}
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if err := checkFields(file, path+"."+n.Content[i].Value, n.Content[i+1], t.Elem()); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// yamlFields adds the YAML keys of struct type t to fields, with those of its inlined
// structs.
func yamlFields(t reflect.Type, fields map[string]reflect.Type) {
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name, opts, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "-" || !sf.IsExported() {
			continue
		}
		if opts == "inline" && sf.Type.Kind() == reflect.Struct {
			yamlFields(sf.Type, fields)
			continue
		}
		if name == "" {
			name = strings.ToLower(sf.Name)
		}
		fields[name] = sf.Type
	}
}

func sortStrings(s []string) []string {
	slices.Sort(s)
	return s
}

// FieldNode returns the value node of key in mapping node n, or nil.
func FieldNode(n *yaml.Node, key string) *yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// FieldLine returns the line of key in mapping node n, or 0.
func FieldLine(n *yaml.Node, key string) int {
	if n == nil {
		return 0
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return 0
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i].Line
		}
	}
	return 0
}
