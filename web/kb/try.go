package kb

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/storage"
)

// maxQuestionRunes bounds a tried question.
const maxQuestionRunes = 1000

// tryPassages is how many retrieved passages the try page lists.
const tryPassages = 10

type tryData struct {
	Question    string
	Collection  string
	Drafts      bool
	Collections []string
	Asked       bool
	Passages    []retrieval.Passage
	Answer      *retrieval.Answer
	Cited       map[string]bool // chunk ids the answer cites
}

func (h *handler) handleTry(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := tryData{Question: strings.TrimSpace(q.Get("q")), Collection: q.Get("collection"), Drafts: q.Get("drafts") == "on"}
	cols, err := h.store.ListCollections(r.Context())
	if err != nil {
		h.fail(w, r, fmt.Errorf("list collections: %w", err))
		return
	}
	for _, c := range cols {
		d.Collections = append(d.Collections, c.Name)
	}
	if utf8.RuneCountInString(d.Question) > maxQuestionRunes {
		h.fail(w, r, tandem.Errorf(tandem.ETOOLARGE, "the question is longer than %d characters", maxQuestionRunes))
		return
	}
	if d.Question != "" {
		d.Asked = true
		var collections []string
		if d.Collection != "" {
			if !slices.Contains(d.Collections, d.Collection) {
				h.fail(w, r, tandem.Errorf(tandem.ENOTFOUND, "no collection %q", d.Collection))
				return
			}
			collections = []string{d.Collection}
		}
		f := storage.SearchFilter{Collections: collections, Status: tandem.DocumentPublished, Limit: tryPassages}
		if d.Drafts {
			f.Status = ""
		}
		d.Passages, err = h.kb.Search(r.Context(), d.Question, f)
		if err != nil {
			h.fail(w, r, fmt.Errorf("search: %w", err))
			return
		}
		opts := retrieval.AnswerOptions{Collections: collections, IncludeDrafts: d.Drafts}
		if h.voice != nil && d.Collection != "" {
			opts.LLM, opts.Persona = h.voice(d.Collection)
		}
		d.Answer, err = h.kb.Answer(r.Context(), d.Question, opts)
		if err != nil {
			h.fail(w, r, fmt.Errorf("answer: %w", err))
			return
		}
		d.Cited = map[string]bool{}
		for _, c := range d.Answer.Citations {
			d.Cited[c.ChunkID] = true
		}
	}
	h.render(w, r, http.StatusOK, "try", page{Title: "Try a question", Nav: "try", Data: d})
}

// reasons explain an answer's Reason to editors.
var reasons = map[string]string{
	retrieval.ReasonExtractive:    "answered with the best passage's own words",
	retrieval.ReasonGenerated:     "answered by the language model from the passages",
	retrieval.ReasonNoPassages:    "no passage matched the question",
	retrieval.ReasonLowConfidence: "the best passage is not similar enough to the question",
	retrieval.ReasonUngrounded:    "the generated answer was not supported by the passages",
	retrieval.ReasonLLMDeclined:   "the language model found no answer in the passages",
}

func reasonText(reason string) string {
	if s, ok := reasons[reason]; ok {
		return s
	}
	return reason
}

type unansweredData struct {
	Bot     string
	Total   int
	Limit   int
	Groups  []group
	Similar float64
}

type group struct {
	retrieval.QuestionGroup
	Examples []string
	More     int
}

// maxExamples is how many example questions a group shows.
const maxExamples = 5

func (h *handler) handleUnanswered(w http.ResponseWriter, r *http.Request) {
	d := unansweredData{Bot: strings.TrimSpace(r.URL.Query().Get("bot")), Limit: h.cfg.UnansweredLimit}
	entries, err := h.store.ListAudit(r.Context(), storage.AuditFilter{Action: ActionUnanswered, Limit: h.cfg.UnansweredLimit})
	if err != nil {
		h.fail(w, r, fmt.Errorf("list unanswered questions: %w", err))
		return
	}
	var questions []string
	for _, e := range entries {
		if d.Bot != "" && e.Detail["bot"] != d.Bot {
			continue
		}
		if q := strings.TrimSpace(e.Detail["question"]); q != "" {
			questions = append(questions, q)
		}
	}
	d.Total = len(questions)
	for _, g := range retrieval.GroupQuestions(questions, h.cfg.GroupSimilarity) {
		gr := group{QuestionGroup: g}
		seen := map[string]bool{}
		for _, q := range g.Questions {
			k := strings.ToLower(q)
			if seen[k] {
				continue
			}
			seen[k] = true
			if len(gr.Examples) < maxExamples {
				gr.Examples = append(gr.Examples, q)
			} else {
				gr.More++
			}
		}
		d.Groups = append(d.Groups, gr)
	}
	h.render(w, r, http.StatusOK, "unanswered", page{Title: "Unanswered questions", Nav: "unanswered", Data: d})
}

// snippet shortens text to about n characters at a word boundary.
func snippet(text string, n int) string {
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	r := []rune(text)[:n]
	s := string(r)
	if i := strings.LastIndex(s, " "); i > n/2 {
		s = s[:i]
	}
	return s + "…"
}

func formatFloat(f float64, prec int) string { return strconv.FormatFloat(f, 'f', prec, 64) }

// rankText shows a 1-based rank, or a dash when the ranking did not find the passage.
func rankText(rank int) string {
	if rank <= 0 {
		return "–"
	}
	return "#" + strconv.Itoa(rank)
}
