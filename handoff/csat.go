package handoff

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Surveys returns the customer satisfaction (CSAT) question a bot asks when an agent closes
// one of its tickets, "" when the bot asks none. A nil Surveys asks nothing.
type Surveys func(botID string) string

// PendingSurvey is a CSAT question waiting for the customer's answer. Close keeps it in the
// conversation's state under "csat" (see surveyState), where the engine finds it in the
// conversation row every turn reads anyway: the customer's next message is read as the
// answer when it is a rating (ParseRating).
type PendingSurvey struct {
	TicketID string    `json:"ticket_id"`
	Queue    string    `json:"queue"`
	AgentID  string    `json:"agent_id"`
	AskedAt  time.Time `json:"asked_at"`
}

// surveyState is the conversation state Close leaves when it asks: the engine's state (see
// bots) afresh, with only the pending survey.
func surveyState(p PendingSurvey) []byte {
	b, _ := json.Marshal(struct {
		CSAT PendingSurvey `json:"csat"`
	}{p}) // cannot fail: strings and a time
	return b
}

// ratingWords are answers in words, by score.
var ratingWords = map[string]int{
	"terrible": 1, "awful": 1, "horrible": 1, "very bad": 1, "very poor": 1, "worst": 1,
	"bad": 2, "poor": 2, "not good": 2, "not great": 2, "disappointing": 2,
	"average": 3, "meh": 3, "so so": 3, "so-so": 3, "neutral": 3, "fine": 3, "not bad": 3,
	"good": 4, "pretty good": 4, "helpful": 4,
	"very good": 5, "great": 5, "excellent": 5, "amazing": 5, "awesome": 5, "perfect": 5, "fantastic": 5, "very helpful": 5,
}

// digitRating is a digit from 1 to 5 with an optional scale: "4", "4/5", "4 out of 5",
// "5 stars", "3 ⭐".
var digitRating = regexp.MustCompile(`^([1-5])\s*(?:/\s*5|out of 5|stars?|⭐+|★+)?$`)

// maxRatingBytes bounds a rating's text, spaces included ("⭐ ⭐ ⭐ ⭐ ⭐" is 19 bytes).
const maxRatingBytes = 40

// ParseRating reads a customer's answer to the CSAT question as a score from 1 (bad) to 5
// (great): a digit ("4", "4/5", "5 stars"), a word from a small English table ("great",
// "terrible"), one to five stars ("⭐⭐⭐⭐") or a thumb (👍 5, 👎 1). Anything else, a
// number out of range included, is not a rating (ok false).
func ParseRating(text string) (score int, ok bool) {
	if len(text) > maxRatingBytes {
		return 0, false // a long message is no rating
	}
	s := strings.ToLower(strings.TrimSpace(text))
	s = strings.ReplaceAll(s, "\uFE0F", "") // emoji presentation selector
	s = strings.TrimRight(s, ".! ")
	s = strings.Join(strings.Fields(s), " ")
	if m := digitRating.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n, true
	}
	if n, ok := ratingWords[s]; ok {
		return n, true
	}
	switch {
	case strings.HasPrefix(s, "👍") && strings.Trim(s, "👍 ") == "":
		return 5, true
	case strings.HasPrefix(s, "👎") && strings.Trim(s, "👎 ") == "":
		return 1, true
	}
	for _, star := range []string{"⭐", "★"} {
		if n := strings.Count(s, star); n >= 1 && n <= 5 && strings.Trim(s, star+" ") == "" {
			return n, true
		}
	}
	return 0, false
}
