package bots

import (
	"strings"
	"unicode/utf8"

	"github.com/tandemhq/tandem"
)

// Channel renderers turn a structured tandem.Reply into what a channel can show. The engine
// keeps replies structured (text, citations, quick replies); connectors call these.

// gsm7 is the GSM 03.38 basic character set; a message using only these (and the
// extension table, counted double) is sent as 7-bit, otherwise as UCS-2.
const gsm7 = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
const gsm7ext = "^{}\\[~]|€"

// SMSSegments returns how many SMS segments text needs and whether it fits GSM-7.
func SMSSegments(text string) (segments int, gsm bool) {
	units, gsm := 0, true
	for _, r := range text {
		switch {
		case strings.ContainsRune(gsm7ext, r):
			units += 2
		case strings.ContainsRune(gsm7, r):
			units++
		default:
			gsm = false
		}
	}
	single, multi := 160, 153
	if !gsm {
		// UCS-2 counts UTF-16 code units.
		units = 0
		for _, r := range text {
			if r > 0xFFFF {
				units += 2
			} else {
				units++
			}
		}
		single, multi = 70, 67
	}
	if units <= single {
		return 1, gsm
	}
	return (units + multi - 1) / multi, gsm
}

// smsEllipsis is GSM-7, unlike "…", which would switch the message to UCS-2.
const smsEllipsis = "..."

// RenderSMS renders a reply as plain text within maxSegments SMS segments (0 means 3):
// quick replies become a "Reply: A / B" line and the first citation a "More: URL" line;
// what does not fit is cut at a word boundary with "...", keeping the reply line.
func RenderSMS(r tandem.Reply, maxSegments int) string {
	if maxSegments <= 0 {
		maxSegments = 3
	}
	body := strings.TrimSpace(r.Text)
	var tail []string
	for _, c := range r.Citations {
		if c.URL != "" {
			tail = append(tail, "More: "+c.URL)
			break
		}
	}
	if len(r.QuickReplies) > 0 {
		titles := make([]string, len(r.QuickReplies))
		for i, q := range r.QuickReplies {
			titles[i] = q.Title
		}
		tail = append(tail, "Reply: "+strings.Join(titles, " / "))
	}
	join := func(b string, t []string) string {
		if len(t) == 0 {
			return b
		}
		return b + "\n" + strings.Join(t, "\n")
	}
	out := join(body, tail)
	if n, _ := SMSSegments(out); n <= maxSegments {
		return out
	}
	// Drop the link first, then shorten the body.
	if len(tail) == 2 {
		tail = tail[1:]
		if out = join(body, tail); func() bool { n, _ := SMSSegments(out); return n <= maxSegments }() {
			return out
		}
	}
	words := strings.Fields(body)
	lo, hi := 0, len(words)
	for lo < hi { // the most words that fit
		mid := (lo + hi + 1) / 2
		if n, _ := SMSSegments(join(strings.Join(words[:mid], " ")+smsEllipsis, tail)); n <= maxSegments {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	if lo == 0 {
		// Not even one word fits with the tail: cut the text by runes.
		s := body
		for len(s) > 0 {
			_, size := utf8.DecodeLastRuneInString(s)
			s = s[:len(s)-size]
			if n, _ := SMSSegments(s + smsEllipsis); n <= maxSegments {
				return s + smsEllipsis
			}
		}
		return ""
	}
	return join(strings.Join(words[:lo], " ")+smsEllipsis, tail)
}

// SlackBlocks renders a reply as Slack Block Kit blocks (JSON-ready): a section with the
// text, a context block with the sources, and an actions block with one button per quick
// reply (action_id "quick_reply", value the payload).
func SlackBlocks(r tandem.Reply) []map[string]any {
	blocks := []map[string]any{{
		"type": "section",
		"text": map[string]any{"type": "mrkdwn", "text": slackEscape(r.Text)},
	}}
	if len(r.Citations) > 0 {
		elems := make([]map[string]any, 0, len(r.Citations))
		for _, c := range r.Citations {
			t := slackEscape(c.Title)
			if c.URL != "" {
				t = "<" + c.URL + "|" + t + ">"
			}
			elems = append(elems, map[string]any{"type": "mrkdwn", "text": "Source: " + t})
		}
		blocks = append(blocks, map[string]any{"type": "context", "elements": elems})
	}
	if len(r.QuickReplies) > 0 {
		btns := make([]map[string]any, 0, len(r.QuickReplies))
		for _, q := range r.QuickReplies {
			btns = append(btns, map[string]any{
				"type":      "button",
				"text":      map[string]any{"type": "plain_text", "text": truncate(q.Title, 75)},
				"value":     truncate(q.Payload, 2000),
				"action_id": "quick_reply_" + itoa(len(btns)),
			})
		}
		blocks = append(blocks, map[string]any{"type": "actions", "elements": btns})
	}
	return blocks
}

func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// DiscordMessage is a Discord message body (JSON field names as Discord's API).
type DiscordMessage struct {
	Content    string             `json:"content"`
	Embeds     []DiscordEmbed     `json:"embeds,omitempty"`
	Components []DiscordActionRow `json:"components,omitempty"`
}

// DiscordEmbed is a rich embed; the engine uses one per cited source.
type DiscordEmbed struct {
	Title       string `json:"title,omitempty"`
	URL         string `json:"url,omitempty"`
	Description string `json:"description,omitempty"`
}

// DiscordActionRow holds up to five buttons.
type DiscordActionRow struct {
	Type       int             `json:"type"` // 1
	Components []DiscordButton `json:"components"`
}

// DiscordButton is a button component (type 2, style 1 primary).
type DiscordButton struct {
	Type     int    `json:"type"`
	Style    int    `json:"style"`
	Label    string `json:"label"`
	CustomID string `json:"custom_id"`
}

// RenderDiscord renders a reply as a Discord message: the text (≤ 2000 characters), an
// embed per source (≤ 10) and the quick replies as buttons (custom_id "qr:<payload>", rows
// of 5, ≤ 25).
func RenderDiscord(r tandem.Reply) DiscordMessage {
	m := DiscordMessage{Content: truncate(r.Text, 2000)}
	for _, c := range r.Citations {
		if len(m.Embeds) == 10 {
			break
		}
		m.Embeds = append(m.Embeds, DiscordEmbed{Title: truncate(c.Title, 256), URL: c.URL})
	}
	for i, q := range r.QuickReplies {
		if i == 25 {
			break
		}
		if i%5 == 0 {
			m.Components = append(m.Components, DiscordActionRow{Type: 1})
		}
		row := &m.Components[len(m.Components)-1]
		row.Components = append(row.Components, DiscordButton{Type: 2, Style: 1, Label: truncate(q.Title, 80),
			CustomID: truncate("qr:"+q.Payload, 100)})
	}
	return m
}

// truncate cuts s to at most n runes, ending with an ellipsis when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
