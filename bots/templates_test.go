package bots_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/storage"
	"github.com/tandemhq/tandem/storage/sqlite"
)

const (
	reopenSID = "HX0123456789abcdef0123456789abcdef"
	delaySID  = "HXfedcba9876543210fedcba9876543210"
)

// whatsAppBotYAML is a bot.yaml with WhatsApp templates and a reopen template.
const whatsAppBotYAML = `id: mini
channels:
  whatsapp:
    reopen_template: reopen
    templates:
      reopen:
        content_sid: ` + reopenSID + `
        variables: ['{{or .Customer.Name "there"}}']
        text: 'Hi {{or .Customer.Name "there"}}, we have a reply to your question. Reply to this message to see it.'
      shipping_delay_notice:
        content_sid: ` + delaySID + `
        variables: ['{{.Profile.first_name}}', '{{.Slots.order}}']
`

func TestLoadTemplates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want string // substring of the error; empty means OK
	}{
		{"OK", whatsAppBotYAML, ""},
		{"OKNoReopen", "id: mini\nchannels:\n  whatsapp:\n    templates:\n      hello: {content_sid: " + reopenSID + "}\n", ""},
		{"ErrContentSID", "id: mini\nchannels:\n  whatsapp:\n    templates:\n      hello:\n        content_sid: HX123\n",
			`b/bot.yaml:6: channels.whatsapp.templates.hello.content_sid: must be HX followed by 32 lower-case hex digits (the template's Content SID), got "HX123"`},
		{"ErrContentSIDUpperCase", "id: mini\nchannels:\n  whatsapp:\n    templates:\n      hello: {content_sid: HX0123456789ABCDEF0123456789ABCDEF}\n",
			"channels.whatsapp.templates.hello.content_sid"},
		{"ErrContentSIDMissing", "id: mini\nchannels:\n  whatsapp:\n    templates:\n      hello: {variables: [x]}\n",
			"channels.whatsapp.templates.hello.content_sid"},
		{"ErrUnknownReopen", "id: mini\nchannels:\n  whatsapp:\n    reopen_template: reopen\n    templates:\n      hello: {content_sid: " + reopenSID + "}\n",
			`b/bot.yaml:4: channels.whatsapp.reopen_template: no template "reopen" in channels.whatsapp.templates (have hello)`},
		{"ErrReopenWithoutTemplates", "id: mini\nchannels:\n  whatsapp:\n    reopen_template: reopen\n",
			`channels.whatsapp.reopen_template: no template "reopen"`},
		{"ErrBadVariable", "id: mini\nchannels:\n  whatsapp:\n    templates:\n      hello:\n        content_sid: " + reopenSID + "\n        variables: ['{{.Customer.Name']\n",
			"b/bot.yaml:7: channels.whatsapp.templates.hello.variables[0]"},
		{"ErrBadText", "id: mini\nchannels:\n  whatsapp:\n    templates:\n      hello:\n        content_sid: " + reopenSID + "\n        text: '{{if}}'\n",
			"b/bot.yaml:7: channels.whatsapp.templates.hello.text"},
		{"ErrTemplatesOnSMS", "id: mini\nchannels:\n  sms:\n    templates:\n      hello: {content_sid: " + reopenSID + "}\n",
			"b/bot.yaml:4: channels.sms.templates: templates are sent on whatsapp only"},
		{"ErrTemplateName", "id: mini\nchannels:\n  whatsapp:\n    templates:\n      Hello World: {content_sid: " + reopenSID + "}\n",
			"channels.whatsapp.templates.Hello World: name must match"},
		{"ErrUnknownField", "id: mini\nchannels:\n  whatsapp:\n    templates:\n      hello: {content_sid: " + reopenSID + ", language: en}\n",
			"unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := bots.Load(minimalBot(map[string]string{"b/bot.yaml": tt.yaml}), "b")
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Load: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Load error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestOutboundTemplate checks proactive WhatsApp templates: the reply carries the template
// with its variables rendered from the customer's profile and the request's slots, and is
// stored with its delivery; an unknown template or one whose variable renders empty is
// refused and stores nothing.
func TestOutboundTemplate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		req      bots.OutboundRequest
		profile  map[string]string
		wantVars map[string]string
		code     string
	}{
		{name: "OK", req: bots.OutboundRequest{Template: "shipping_delay_notice", Slots: map[string]string{"order": "A100001"}},
			profile: map[string]string{"first_name": "Ada"}, wantVars: map[string]string{"1": "Ada", "2": "A100001"}},
		{name: "OKDefaultName", req: bots.OutboundRequest{Template: "reopen"}, wantVars: map[string]string{"1": "there"}},
		{name: "ErrEmptyVariable", req: bots.OutboundRequest{Template: "shipping_delay_notice", Slots: map[string]string{"order": "A100001"}},
			code: tandem.EINVALID},
		{name: "ErrUnknownTemplate", req: bots.OutboundRequest{Template: "nope"}, code: tandem.EINVALID},
		{name: "ErrWrongChannel", req: bots.OutboundRequest{Template: "reopen", Channel: tandem.ChannelSMS}, code: tandem.EINVALID},
		{name: "ErrTemplateAndText", req: bots.OutboundRequest{Template: "reopen", Text: "hi"}, code: tandem.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			reg := bots.NewRegistry(bots.RegistryConfig{})
			if _, err := reg.LoadFS(ctx, minimalBot(map[string]string{"b/bot.yaml": whatsAppBotYAML}), "b"); err != nil {
				t.Fatal(err)
			}
			st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"), sqlite.Config{Migrate: true})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			cust, _, err := st.ResolveIdentity(ctx, tandem.ChannelWhatsApp, phone)
			if err != nil {
				t.Fatal(err)
			}
			if tt.profile != nil {
				if _, err := st.UpdateCustomer(ctx, cust.ID, storage.CustomerUpdate{Profile: tt.profile}); err != nil {
					t.Fatal(err)
				}
			}
			e := bots.New(st, reg)
			req := tt.req
			req.BotID, req.ExternalID = "mini", phone
			if req.Channel == "" {
				req.Channel = tandem.ChannelWhatsApp
			}
			turn, err := e.SendOutbound(ctx, req)
			if got := tandem.ErrorCode(err); got != tt.code {
				t.Fatalf("code = %q (%v), want %q", got, err, tt.code)
			}
			if tt.code != "" {
				ds, err := st.ListDeliveries(ctx, storage.DeliveryFilter{})
				if err != nil {
					t.Fatal(err)
				}
				if len(ds) != 0 {
					t.Errorf("a refused outbound stored %d deliveries", len(ds))
				}
				return
			}
			if len(turn.Replies) != 1 || turn.Replies[0].Template == nil {
				t.Fatalf("replies = %+v, want one template", turn.Replies)
			}
			tmpl := turn.Replies[0].Template
			if tmpl.Name != tt.req.Template || len(tmpl.Variables) != len(tt.wantVars) {
				t.Errorf("template = %+v, want %s with %v", tmpl, tt.req.Template, tt.wantVars)
			}
			for k, v := range tt.wantVars {
				if tmpl.Variables[k] != v {
					t.Errorf("variable %s = %q, want %q", k, tmpl.Variables[k], v)
				}
			}
			ds, err := st.ListDeliveries(ctx, storage.DeliveryFilter{Channel: tandem.ChannelWhatsApp, To: phone})
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) != 1 || ds[0].Reply.Template == nil || ds[0].Reply.Template.ContentSID != tmpl.ContentSID {
				t.Fatalf("deliveries = %+v, want the template's", ds)
			}
			if ds[0].Reply.Text == "" {
				t.Error("the template's delivery has no text for the transcript")
			}
		})
	}
}
