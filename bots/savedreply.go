package bots

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/flows"
)

// SavedReply is a canned reply agents pick on the ticket page (saved_replies.yaml): a title,
// a text template over SavedReplyData, and tags to find it by.
type SavedReply struct {
	ID    string
	Title string
	Text  *flows.Template
	Tags  []string
	Line  int
}

// SavedReplyData is what a saved reply's template sees: what responses see ({{.Customer.Name}},
// {{.Profile.x}}, {{.Bot.Name}}, {{.Slots.x}}, always empty here, {{.BaseURL}}) and the agent
// who uses it ({{.Agent.Name}}, {{.Agent.Email}}).
type SavedReplyData struct {
	flows.Data
	Agent SavedReplyAgent
}

// SavedReplyAgent is the agent as saved replies see them.
type SavedReplyAgent struct {
	Name  string
	Email string
}

// Limits of saved_replies.yaml.
const (
	MaxSavedReplies         = 500
	MaxSavedReplyTitleBytes = 120
)

type savedRepliesYAML struct {
	SavedReplies []struct {
		ID    string   `yaml:"id"`
		Title string   `yaml:"title"`
		Text  string   `yaml:"text"`
		Tags  []string `yaml:"tags"`
	} `yaml:"saved_replies"`
}

var savedReplyIDRE = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

// loadSavedReplies reads the optional saved_replies.yaml. Each template is tried once over
// empty data, so a field that does not exist ({{.Customer.Phone}}) is an error here, naming
// its line, rather than on the ticket page.
func (l *loader) loadSavedReplies(d *Definition) {
	file := path.Join(l.dir, "saved_replies.yaml")
	var sy savedRepliesYAML
	root, ok := l.read("saved_replies.yaml", &sy, false)
	if !ok {
		return
	}
	seq := flows.FieldNode(root, "saved_replies")
	if len(sy.SavedReplies) > MaxSavedReplies {
		l.errorf(file, 1, "saved_replies", "at most %d saved replies, got %d", MaxSavedReplies, len(sy.SavedReplies))
		return
	}
	seen := map[string]int{}
	for i, y := range sy.SavedReplies {
		n := seq.Content[i]
		fl := func(f string) int {
			if x := flows.FieldLine(n, f); x > 0 {
				return x
			}
			return n.Line
		}
		prefix := fmt.Sprintf("saved_replies[%d]", i)
		switch {
		case !savedReplyIDRE.MatchString(y.ID):
			l.errorf(file, fl("id"), prefix+".id", "must match [a-z0-9_-]{1,64}, got %q", y.ID)
			continue
		case seen[y.ID] > 0:
			l.errorf(file, fl("id"), prefix+".id", "duplicate id %q (first on line %d)", y.ID, seen[y.ID])
			continue
		}
		seen[y.ID] = n.Line
		prefix = "saved_replies." + y.ID
		title := strings.TrimSpace(y.Title)
		switch {
		case title == "":
			l.errorf(file, fl("title"), prefix+".title", "required")
		case len(title) > MaxSavedReplyTitleBytes:
			l.errorf(file, fl("title"), prefix+".title", "is %d bytes; the limit is %d", len(title), MaxSavedReplyTitleBytes)
		}
		for j, tag := range y.Tags {
			if strings.TrimSpace(tag) == "" {
				l.errorf(file, fl("tags"), fmt.Sprintf("%s.tags[%d]", prefix, j), "empty tag")
			}
		}
		if strings.TrimSpace(y.Text) == "" {
			l.errorf(file, fl("text"), prefix+".text", "empty text")
			continue
		}
		t, err := flows.ParseTemplate(y.ID, y.Text)
		if err == nil {
			_, err = t.Render(&SavedReplyData{})
		}
		if err != nil {
			l.errorf(file, fl("text"), prefix+".text", "%v", err)
			continue
		}
		d.SavedReplies = append(d.SavedReplies, SavedReply{ID: y.ID, Title: title, Text: t, Tags: y.Tags, Line: n.Line})
	}
}

// SavedReply returns the saved reply with id.
func (d *Definition) SavedReply(id string) (*SavedReply, bool) {
	for i := range d.SavedReplies {
		if d.SavedReplies[i].ID == id {
			return &d.SavedReplies[i], true
		}
	}
	return nil, false
}

// Render fills the saved reply in for a customer (nil: none known) and the agent using it.
// A template that fails on this data (a function given a bad value) is EINVALID, with a
// message for the agent; so is one that renders to nothing.
func (r *SavedReply) Render(def *Definition, baseURL string, cust *tandem.Customer, agent *tandem.Agent) (string, error) {
	data := SavedReplyData{Data: flows.Data{Slots: map[string]string{}, Profile: map[string]string{},
		Bot: flows.Bot{ID: def.ID, Name: def.Name}, BaseURL: baseURL}}
	if cust != nil {
		data.Customer = flows.Customer{ID: cust.ID, Name: cust.DisplayName}
		if cust.Profile != nil {
			data.Profile = cust.Profile
		}
	}
	if agent != nil {
		data.Agent = SavedReplyAgent{Name: agent.Name, Email: agent.Email}
	}
	text, err := r.Text.Render(&data)
	if err != nil {
		return "", tandem.Errorf(tandem.EINVALID, "saved reply %q could not be filled in: %v", r.Title, err)
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return "", tandem.Errorf(tandem.EINVALID, "saved reply %q is empty for this customer", r.Title)
	}
	return text, nil
}

// SavedReplies returns a bot's saved replies in file order; an unknown bot has none.
func (e *Engine) SavedReplies(botID string) []SavedReply {
	bot, ok := e.bots.Get(botID)
	if !ok {
		return nil
	}
	return bot.Def.SavedReplies
}

// RenderSavedReply fills in a bot's saved reply id for the customer and the agent using it
// (see SavedReply.Render). An unknown bot or id is ENOTFOUND.
func (e *Engine) RenderSavedReply(botID, id string, cust *tandem.Customer, agent *tandem.Agent) (string, error) {
	bot, ok := e.bots.Get(botID)
	if !ok {
		return "", tandem.Errorf(tandem.ENOTFOUND, "no bot %q", botID)
	}
	r, ok := bot.Def.SavedReply(id)
	if !ok {
		return "", tandem.Errorf(tandem.ENOTFOUND, "no saved reply %q: the bot's saved replies may have changed; pick one again", id)
	}
	return r.Render(bot.Def, e.baseURL, cust, agent)
}
