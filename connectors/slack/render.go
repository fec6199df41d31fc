package slack

import (
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"

	"github.com/tandemhq/tandem"
)

// Block Kit limits (https://docs.slack.dev/reference/block-kit) that Blocks keeps within
// rather than have Slack refuse the whole message with invalid_blocks.
const (
	maxSectionText  = 3000 // characters in a section's text
	maxContextItems = 10   // elements in a context block
	maxButtons      = 25   // elements in an actions block
	maxButtonText   = 75   // characters in a button's label
	maxButtonValue  = 2000 // characters in a button's value
)

// QuickReplyActionID prefixes the action_id of every quick-reply button
// ("quick_reply_0", "quick_reply_1", ...); Handler turns clicks on them into messages.
const QuickReplyActionID = "quick_reply"

// Blocks renders a reply as Block Kit blocks: the text in section blocks (mrkdwn, split
// to fit Slack's 3000-character limit), the citations as "Source:" links in a context
// block, and the quick replies as buttons in an actions block, each button's value being
// the quick reply's payload. Text is escaped (&, <, >), so a reply cannot mention users
// or forge links.
func Blocks(r tandem.Reply) []slackapi.Block {
	var blocks []slackapi.Block
	for _, chunk := range splitEscaped(r.Text, maxSectionText) {
		blocks = append(blocks, slackapi.NewSectionBlock(
			slackapi.NewTextBlockObject(slackapi.MarkdownType, chunk, false, false), nil, nil))
	}
	var sources []slackapi.MixedElement
	for _, c := range r.Citations {
		if len(sources) == maxContextItems {
			break
		}
		if s := citation(c); s != "" {
			sources = append(sources, slackapi.NewTextBlockObject(slackapi.MarkdownType, "Source: "+s, false, false))
		}
	}
	if len(sources) > 0 {
		blocks = append(blocks, slackapi.NewContextBlock("", sources...))
	}
	var buttons []slackapi.BlockElement
	for _, q := range r.QuickReplies {
		if len(buttons) == maxButtons {
			break
		}
		title := strings.TrimSpace(q.Title)
		if title == "" {
			title = strings.TrimSpace(q.Payload)
		}
		if title == "" {
			continue // Slack refuses a button without a label
		}
		id := QuickReplyActionID + "_" + strconv.Itoa(len(buttons))
		buttons = append(buttons, slackapi.NewButtonBlockElement(id, truncate(q.Payload, maxButtonValue),
			slackapi.NewTextBlockObject(slackapi.PlainTextType, truncate(title, maxButtonText), true, false)))
	}
	if len(buttons) > 0 {
		blocks = append(blocks, slackapi.NewActionBlock("", buttons...))
	}
	return blocks
}

// Fallback is the message's top-level text, which Slack shows in notifications and in
// clients that cannot show blocks: the escaped reply text, or the quick replies' titles
// when the reply has no text.
func Fallback(r tandem.Reply) string {
	if s := strings.TrimSpace(r.Text); s != "" {
		return escape(s)
	}
	titles := make([]string, 0, len(r.QuickReplies))
	for _, q := range r.QuickReplies {
		if q.Title != "" {
			titles = append(titles, q.Title)
		}
	}
	return escape(strings.Join(titles, " / "))
}

// citation renders one source as mrkdwn: a link when the citation has an http(s) URL,
// else its escaped title.
func citation(c tandem.Citation) string {
	title := escape(strings.TrimSpace(c.Title))
	u, err := url.Parse(c.URL)
	if c.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return title
	}
	// |, < and > would end the link markup early; & is Slack's escape character.
	link := strings.NewReplacer("&", "&amp;", "|", "%7C", "<", "%3C", ">", "%3E").Replace(c.URL)
	if title == "" {
		return "<" + link + ">"
	}
	return "<" + link + "|" + title + ">"
}

// escape escapes the three characters Slack's mrkdwn gives meaning to.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// splitEscaped escapes s and cuts it into pieces of at most n characters, never inside an
// escape; empty or blank text gives no pieces.
func splitEscaped(s string, n int) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	var pieces []string
	var b strings.Builder
	size := 0
	for _, r := range s {
		e := string(r)
		switch r {
		case '&':
			e = "&amp;"
		case '<':
			e = "&lt;"
		case '>':
			e = "&gt;"
		}
		w := utf8.RuneCountInString(e)
		if size+w > n && size > 0 {
			pieces = append(pieces, b.String())
			b.Reset()
			size = 0
		}
		b.WriteString(e)
		size += w
	}
	return append(pieces, b.String())
}

// truncate cuts s to at most n runes, ending with an ellipsis when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// plainText turns the text of a Slack message into what the customer typed: links
// (<https://x|label>, <mailto:a@b.c|a@b.c>) become their label or target, and &amp;,
// &lt; and &gt; are unescaped. Mentions (<@U123>, <#C123>, <!here>) are kept as written.
func plainText(s string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(s)
			break
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		inner := s[i+1 : i+j]
		switch {
		case inner == "" || strings.ContainsAny(inner[:1], "@#!"):
			b.WriteString(s[i : i+j+1])
		default:
			target, label, ok := strings.Cut(inner, "|")
			if ok && label != "" {
				b.WriteString(label)
			} else {
				b.WriteString(strings.TrimPrefix(target, "mailto:"))
			}
		}
		s = s[i+j+1:]
	}
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(b.String())
}
