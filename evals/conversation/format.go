// Package conversation runs a bot's conversation tests: YAML files of customer turns with
// expectations (intent, entities, decision, reply text or pattern, cited document, flow,
// handoff), played in process through an engine, scored per turn and summarised as metrics.
//
// A test file looks like this:
//
//	name: order status asks for the order number
//	turns:
//	  - user: where is my order
//	    expect: {intent: order_status, decision: intent, contains: "order number"}
//	  - user: it's A100001
//	    expect: {decision: flow, flow: order_status, response: "UPS|FedEx", entities: [order_number/A100001]}
//
// Every expectation is optional; a turn without any only has to be answered without an error.
package conversation

import (
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/flows"
)

// Test is one conversation test: a fresh customer says each turn's text in order.
type Test struct {
	Name  string `yaml:"name" json:"name"`
	Turns []Turn `yaml:"turns" json:"turns"`
	// File is where the test was read from ("" when built in code); reports name it.
	File string `yaml:"-" json:"file,omitempty"`
}

// Turn is one customer message and what the bot must do with it.
type Turn struct {
	User   string `yaml:"user" json:"user"`
	Expect Expect `yaml:"expect" json:"expect"`
	// Line is the turn's line in File (0 when built in code).
	Line int `yaml:"-" json:"line,omitempty"`
}

// Expect lists what a turn must produce. Empty fields are not checked.
type Expect struct {
	// Intent is the top intent NLU must find.
	Intent string `yaml:"intent" json:"intent,omitempty"`
	// Entities are "type" or "type/value" items that must all be among the message's
	// entities; values compare case-insensitively with the normalised value.
	Entities []string `yaml:"entities" json:"entities,omitempty"`
	// Decision is the policy step that answered (tandem.DecisionKind: intent, flow, knowledge, ...).
	Decision string `yaml:"decision" json:"decision,omitempty"`
	// Flow is the flow the turn's decision concerned (tandem.Decision.Flow): the flow that
	// started, asked, finished, was cancelled or resumes after a mid-flow answer. An empty
	// string (flow: "") asserts the turn concerned no flow; an absent key is not checked.
	Flow *string `yaml:"flow" json:"flow,omitempty"`
	// ActiveFlow and ActiveStep are the flow in progress after the turn and the step it
	// waits in (tandem.Turn.ActiveFlow): "" asserts no flow is active; absent, not checked.
	ActiveFlow *string `yaml:"active_flow" json:"active_flow,omitempty"`
	ActiveStep *string `yaml:"active_step" json:"active_step,omitempty"`
	// Contains is a case-insensitive substring of the joined replies.
	Contains string `yaml:"contains" json:"contains,omitempty"`
	// Response is a regular expression (Go syntax) that must match the joined replies.
	Response string `yaml:"response" json:"response,omitempty"`
	// Cites is the base name of a document one of the replies must cite.
	Cites string `yaml:"cites" json:"cites,omitempty"`
	// Handoff, when set, says whether the turn must hand the conversation to a human.
	Handoff *bool `yaml:"handoff" json:"handoff,omitempty"`
}

// replySeparator joins a turn's replies for contains and response.
const replySeparator = " | "

var decisionKinds = map[string]bool{
	string(tandem.DecisionRelay): true, string(tandem.DecisionFlow): true, string(tandem.DecisionIntent): true,
	string(tandem.DecisionKnowledge): true, string(tandem.DecisionFallback): true,
	string(tandem.DecisionHandoff): true, string(tandem.DecisionDuplicate): true, string(tandem.DecisionSurvey): true,
}

// Parse reads one test file. Unknown fields, a missing name, turns without text and bad
// expectations are errors of the form "file:line: field: message".
func Parse(file string, data []byte) (Test, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return Test{}, fmt.Errorf("%s: %w", file, err)
	}
	if len(root.Content) == 0 {
		return Test{}, fmt.Errorf("%s:1: empty test file", file)
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return Test{}, fmt.Errorf("%s:%d: want a mapping with name and turns", file, doc.Line)
	}
	var t Test
	if err := flows.StrictDecode(file, &root, &t); err != nil {
		return Test{}, err
	}
	t.File = file
	var errs []error
	bad := func(line int, field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s: %s", file, line, field, fmt.Sprintf(format, args...)))
	}
	if strings.TrimSpace(t.Name) == "" {
		bad(lineOr(flows.FieldLine(doc, "name"), doc.Line), "name", "required")
	}
	turns := flows.FieldNode(doc, "turns")
	for turns != nil && turns.Kind == yaml.AliasNode {
		turns = turns.Alias
	}
	if len(t.Turns) == 0 {
		bad(lineOr(flows.FieldLine(doc, "turns"), doc.Line), "turns", "at least one turn is required")
	}
	for i := range t.Turns {
		tu := &t.Turns[i]
		n := doc
		if turns != nil && i < len(turns.Content) {
			n = turns.Content[i]
		}
		tu.Line = n.Line
		at := func(key string) int {
			if l := flows.FieldLine(flows.FieldNode(n, "expect"), key); l > 0 {
				return l
			}
			return lineOr(flows.FieldLine(n, key), n.Line)
		}
		p := fmt.Sprintf("turns[%d]", i)
		if strings.TrimSpace(tu.User) == "" {
			bad(at("user"), p+".user", "required")
		}
		x := tu.Expect
		if x.Decision != "" && !decisionKinds[x.Decision] {
			bad(at("decision"), p+".expect.decision", "unknown decision %q (want relay, flow, intent, knowledge, fallback, handoff or duplicate)", x.Decision)
		}
		if x.Response != "" {
			if _, err := regexp.Compile(x.Response); err != nil {
				bad(at("response"), p+".expect.response", "bad regular expression: %v", err)
			}
		}
		for _, e := range x.Entities {
			if typ, _, _ := strings.Cut(e, "/"); strings.TrimSpace(typ) == "" {
				bad(at("entities"), p+".expect.entities", "want type or type/value, got %q", e)
			}
		}
	}
	if len(errs) > 0 {
		return Test{}, errors.Join(errs...)
	}
	return t, nil
}

func lineOr(line, def int) int {
	if line > 0 {
		return line
	}
	return def
}

// ParseFS reads every file of fsys matching pattern (fs.Glob syntax), in name order. It
// reports every file's errors, not only the first.
func ParseFS(fsys fs.FS, pattern string) ([]Test, error) {
	files, err := fs.Glob(fsys, pattern)
	if err != nil {
		return nil, fmt.Errorf("glob %s: %w", pattern, err)
	}
	var tests []Test
	var errs []error
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			errs = append(errs, fmt.Errorf("read test: %w", err))
			continue
		}
		t, err := Parse(f, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		tests = append(tests, t)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return tests, nil
}
