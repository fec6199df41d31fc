package inbox

import (
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/bots"
)

// replyWindow is the ticket page's notice about a channel that takes free-form replies
// only for a while after the customer's last message (WhatsApp: 24 hours).
type replyWindow struct {
	Channel tandem.Channel
	Open    bool
	// Until is when the window closes (or closed); zero when the customer never wrote on
	// the channel.
	Until time.Time
	// Reopen is the bot's reopen template, "" when it has none: replies then fail.
	Reopen string
}

// replyWindow tells whether the conversation's channel takes an agent's reply now, from
// the customer's last message there among msgs (their timeline, oldest first); nil when the
// channel has no window.
func (h *handler) replyWindow(conv *tandem.Conversation, msgs []tandem.Message) *replyWindow {
	length := conv.Channel.ReplyWindow()
	if length == 0 {
		return nil
	}
	w := &replyWindow{Channel: conv.Channel}
	if last, ok := bots.LastInbound(msgs, conv.Channel); ok {
		w.Until = last.Add(length)
		w.Open = h.cfg.Now().Before(w.Until)
	}
	if h.reopen != nil {
		w.Reopen = h.reopen(conv.BotID, conv.Channel)
	}
	return w
}
