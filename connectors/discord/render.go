package discord

import (
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
	"github.com/tandemhq/tandem"
)

// Discord's limits on a message a bot sends
// (https://discord.com/developers/docs/resources/message#create-message).
const (
	maxContent    = 2000 // characters of content
	maxEmbeds     = 10
	maxEmbedTitle = 256
	maxRows       = 5 // action rows per message
	maxButtons    = 5 // buttons per action row
	maxLabel      = 80
	maxCustomID   = 100
)

// quickReplyPrefix marks a button's custom_id as a quick reply; what follows is the payload.
const quickReplyPrefix = "qr:"

// Render renders a reply as a Discord message with discordgo's own types: the text as content
// (at most 2000 characters), one rich embed per cited source (at most 10) and the quick
// replies as primary buttons in action rows of five (at most 25), each button's custom_id
// "qr:<payload>". Quick replies repeating an earlier payload are dropped, since Discord refuses
// a message whose custom_ids repeat. Mentions are never parsed, so a reply cannot ping anyone.
func Render(r tandem.Reply) *discordgo.MessageSend {
	m := &discordgo.MessageSend{
		Content:         truncate(r.Text, maxContent, "…"),
		AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}},
	}
	for _, c := range r.Citations {
		if len(m.Embeds) == maxEmbeds {
			break
		}
		title := c.Title
		if title == "" {
			title = c.URL
		}
		if title == "" {
			continue // nothing to show
		}
		m.Embeds = append(m.Embeds, &discordgo.MessageEmbed{
			Type: discordgo.EmbedTypeRich, Title: truncate(title, maxEmbedTitle, "…"), URL: c.URL})
	}
	seen := make(map[string]bool, len(r.QuickReplies))
	var row *discordgo.ActionsRow
	n := 0
	for _, q := range r.QuickReplies {
		id := truncate(quickReplyPrefix+q.Payload, maxCustomID, "")
		if seen[id] {
			continue
		}
		if n == maxRows*maxButtons {
			break
		}
		seen[id] = true
		label := q.Title
		if label == "" {
			label = q.Payload
		}
		if n%maxButtons == 0 {
			row = &discordgo.ActionsRow{}
			m.Components = append(m.Components, row)
		}
		row.Components = append(row.Components, discordgo.Button{
			Style: discordgo.PrimaryButton, Label: truncate(label, maxLabel, "…"), CustomID: id})
		n++
	}
	return m
}

// quickReplyPayload returns the payload of a quick-reply button's custom_id.
func quickReplyPayload(customID string) (string, bool) {
	payload, ok := strings.CutPrefix(customID, quickReplyPrefix)
	if !ok {
		return "", false
	}
	return payload, true
}

// truncate cuts s to at most n characters, ending with tail when cut.
func truncate(s string, n int, tail string) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-utf8.RuneCountInString(tail)]) + tail
}
