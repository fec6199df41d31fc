package web

import (
	"embed"
	"html/template"
	"io/fs"
	"net/http"
)

// assets holds the server's templates and static files; the binary needs no files on disk
// and the pages load nothing from the network.
//
//go:embed templates static
var assets embed.FS

// chatTemplate renders the chat page.
var chatTemplate = template.Must(template.ParseFS(assets, "templates/chat.html"))

// chatPage is the data of templates/chat.html.
type chatPage struct {
	Bot       string
	MaxLength int
	// Embed renders the compact page of the widget's iframe (/embed).
	Embed bool
}

// handleChatPage serves the minimal chat page; ?bot= picks the bot (default Config.DefaultBot).
// The page's script talks to the web chat socket (connectors/webchat at /chat/ws), which the
// app mounts beside it.
func (s *Server) handleChatPage(w http.ResponseWriter, r *http.Request) {
	s.renderChat(w, r, false)
}

// renderChat renders the chat page for ?bot=, full or compact (embed).
func (s *Server) renderChat(w http.ResponseWriter, r *http.Request, embed bool) {
	bot := r.URL.Query().Get("bot")
	if bot == "" {
		bot = s.cfg.DefaultBot
	}
	if !botNameRE.MatchString(bot) {
		http.Error(w, "invalid bot id", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	if err := s.chat.Execute(w, chatPage{Bot: bot, MaxLength: s.cfg.MaxMessageBytes, Embed: embed}); err != nil {
		// Headers are gone by now; the template is fixed, so this means the client left.
		s.log.DebugContext(r.Context(), "render chat page", "request_id", RequestID(r.Context()), "error", err)
	}
}

// staticHandler serves the embedded static files under /static/.
func staticHandler() http.Handler {
	sub, err := fs.Sub(assets, "static")
	if err != nil {
		panic(err) // the embed directive guarantees the folder
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		files.ServeHTTP(w, r)
	})
}
