package twilio

import (
	"strings"
	"unicode/utf8"

	"github.com/tandemhq/tandem"
)

// Renderers turn a structured tandem.Reply into the plain text an SMS or a WhatsApp message
// carries: Twilio's Messages API takes one Body string.

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

// replyTail returns the lines that follow a reply's text: the first citation's link as
// "More: URL" and the quick replies as "Reply: A / B", in that order.
func replyTail(r tandem.Reply) []string {
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
	return tail
}

func joinTail(body string, tail []string) string {
	if len(tail) == 0 {
		return body
	}
	return body + "\n" + strings.Join(tail, "\n")
}

// RenderSMS renders a reply as plain text within maxSegments SMS segments (0 means 3):
// quick replies become a "Reply: A / B" line and the first citation a "More: URL" line;
// what does not fit is cut at a word boundary with "...", keeping the reply line.
func RenderSMS(r tandem.Reply, maxSegments int) string {
	if maxSegments <= 0 {
		maxSegments = 3
	}
	fits := func(s string) bool { n, _ := SMSSegments(s); return n <= maxSegments }
	return fitReply(strings.TrimSpace(r.Text), replyTail(r), smsEllipsis, fits)
}

// MaxWhatsAppBody is the longest Body, in characters, Twilio accepts for a WhatsApp message.
const MaxWhatsAppBody = 1600

// RenderWhatsApp renders a reply as a WhatsApp message body of at most MaxWhatsAppBody
// characters: the full text, the first citation as a "More: URL" line and the quick replies
// as a "Reply: A / B" line; a text too long is cut at a word boundary with "…", keeping the
// reply line.
func RenderWhatsApp(r tandem.Reply) string {
	fits := func(s string) bool { return utf8.RuneCountInString(s) <= MaxWhatsAppBody }
	return fitReply(strings.TrimSpace(r.Text), replyTail(r), "…", fits)
}

// fitReply joins body and tail when fits allows it; otherwise it drops the link line, then
// keeps the most words of body that fit, marked with ellipsis, then cuts by runes.
func fitReply(body string, tail []string, ellipsis string, fits func(string) bool) string {
	if out := joinTail(body, tail); fits(out) {
		return out
	}
	if len(tail) == 2 {
		tail = tail[1:]
		if out := joinTail(body, tail); fits(out) {
			return out
		}
	}
	words := strings.Fields(body)
	lo, hi := 0, len(words)
	for lo < hi { // the most words that fit
		mid := (lo + hi + 1) / 2
		if fits(joinTail(strings.Join(words[:mid], " ")+ellipsis, tail)) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	if lo == 0 {
		// Not even one word fits with the tail: cut the text by runes, without the tail.
		runes := []rune(body)
		lo, hi := 0, len(runes)-1
		for lo < hi { // the most runes that fit
			mid := (lo + hi + 1) / 2
			if fits(string(runes[:mid]) + ellipsis) {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		if lo == 0 {
			return ""
		}
		return string(runes[:lo]) + ellipsis
	}
	return joinTail(strings.Join(words[:lo], " ")+ellipsis, tail)
}
