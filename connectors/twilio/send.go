package twilio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	twclient "github.com/twilio/twilio-go/client"
	twapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/connectors"
)

// DefaultRetryAfter is how long a delivery is snoozed when Twilio answers 429 (error 20429)
// without a Retry-After header: Twilio documents no delay for its rate limit, and queues
// most excess messages itself, so a short pause is enough.
const DefaultRetryAfter = time.Second

// undeliverable are Twilio Messaging error codes for a recipient that can never receive the
// message as addressed, so retrying is pointless (https://www.twilio.com/docs/api/errors/<code>;
// 63003 and 63024 are Twilio's codes for WhatsApp's 1006/1013/1021 and 1002/1026, per
// https://www.twilio.com/docs/whatsapp/api/error-code-mapping).
var undeliverable = map[int]string{
	21211: "invalid To number",
	21265: "To number is a short code",
	21266: "To and From are the same number",
	21610: "recipient unsubscribed (STOP)",
	21612: "To/From combination cannot be reached",
	21614: "To number is not a mobile number",
	21635: "To number is a landline",
	63003: "WhatsApp could not find the To address",
	63024: "invalid WhatsApp recipient",
}

// Send delivers o with the Messages API and returns the message sid. On SMS the reply is
// rendered within Config.MaxSegments segments, on WhatsApp within MaxWhatsAppBody
// characters; a reply with a template is sent on WhatsApp as the template (ContentSid and
// ContentVariables, no Body), and on SMS as its text. Errors: EINVALID for a recipient
// Twilio can never reach (see undeliverable) or a reply with nothing to send, EINVALID
// wrapping connectors.ErrOutsideWindow when WhatsApp refuses a free-form message outside
// its 24-hour window (error 63016), *connectors.RetryLaterError for a rate limit (HTTP 429,
// error 20429), and a wrapped error the delivery worker retries for anything else (5xx,
// network, timeouts, ctx).
//
// twilio-go takes no context, so each call gets its own client whose transport attaches
// ctx to the request: cancelling ctx aborts the call. Twilio's Messages API accepts no
// idempotency key, so o.IdempotencyKey is not sent and a retried delivery may be sent twice.
func (c *Connector) Send(ctx context.Context, o connectors.Outgoing) (string, error) {
	if strings.TrimPrefix(o.To, whatsAppPrefix) == "" {
		return "", tandem.Errorf(tandem.EINVALID, "twilio: outgoing message has no recipient")
	}
	params := &twapi.CreateMessageParams{}
	params.SetTo(c.address(o.To))
	if c.cfg.From != "" {
		params.SetFrom(c.address(c.cfg.From))
	} else {
		params.SetMessagingServiceSid(c.cfg.MessagingServiceSID)
	}
	if err := c.setContent(params, o.Reply); err != nil {
		return "", err
	}

	tr := &callTransport{ctx: ctx, base: c.base, next: c.httpClient.Transport}
	hc := *c.httpClient
	hc.Transport = tr
	cl := &twclient.Client{Credentials: twclient.NewCredentials(c.cfg.AccountSID, c.cfg.AuthToken), HTTPClient: &hc}
	cl.SetAccountSid(c.cfg.AccountSID)
	api := twapi.NewApiServiceWithClient(cl)
	// The base URL (WithBaseURL) picks the host, not the TWILIO_EDGE/TWILIO_REGION
	// environment the library reads.
	api.RequestHandler().Edge, api.RequestHandler().Region = "", ""

	msg, err := api.CreateMessage(params)
	if err != nil {
		err = sendError(err, tr.status, tr.retryAfter, c.now())
		level := slog.LevelWarn
		if tandem.ErrorCode(err) == tandem.EINVALID {
			level = slog.LevelInfo // the recipient's doing, not ours
		}
		c.log.LogAttrs(ctx, level, "twilio send failed", slog.Int("http_status", tr.status), slog.String("err", err.Error()))
		return "", err
	}
	if msg.Sid == nil || *msg.Sid == "" {
		return "", errors.New("twilio: send: the response has no message sid")
	}
	c.log.DebugContext(ctx, "twilio message sent", "message_sid", *msg.Sid, "idempotency_key", o.IdempotencyKey)
	return *msg.Sid, nil
}

// setContent sets what the message says: the template's content on WhatsApp, else the
// rendered text.
func (c *Connector) setContent(params *twapi.CreateMessageParams, r tandem.Reply) error {
	if t := r.Template; t != nil && c.cfg.Channel == tandem.ChannelWhatsApp {
		if !contentSID.MatchString(t.ContentSID) {
			return tandem.Errorf(tandem.EINVALID, "twilio: template %q: content sid %q is not HX followed by 32 hex digits", t.Name, t.ContentSID)
		}
		params.SetContentSid(t.ContentSID)
		if len(t.Variables) > 0 {
			vars, err := json.Marshal(t.Variables)
			if err != nil {
				return fmt.Errorf("twilio: template %q variables: %w", t.Name, err)
			}
			params.SetContentVariables(string(vars))
		}
		return nil
	}
	var body string
	if c.cfg.Channel == tandem.ChannelWhatsApp {
		body = RenderWhatsApp(r)
	} else {
		body = RenderSMS(r, c.maxSegments())
	}
	if strings.TrimSpace(body) == "" {
		return tandem.Errorf(tandem.EINVALID, "twilio: the reply has no text to send")
	}
	params.SetBody(body)
	return nil
}

// contentSID is a Content API template's id.
var contentSID = regexp.MustCompile(`^HX[0-9a-f]{32}$`)

// errOutsideWindow is Twilio's error for a free-form WhatsApp message sent more than 24
// hours after the customer's last message ("Message failed to send because more than 24
// hours have passed since the customer last replied to this number").
const errOutsideWindow = 63016

// sendError maps a twilio-go error, with the HTTP status and Retry-After header the
// transport saw, to the connector contract's errors.
func sendError(err error, status int, retryAfter string, now time.Time) error {
	var rest *twclient.TwilioRestError
	if !errors.As(err, &rest) {
		rest = &twclient.TwilioRestError{} // network, timeout, ctx, or a body that is not Twilio's JSON
	}
	if rest.Status != 0 {
		status = rest.Status
	}
	if status == http.StatusTooManyRequests || rest.Code == 20429 {
		return &connectors.RetryLaterError{After: parseRetryAfter(retryAfter, now), Err: fmt.Errorf("twilio: send: %w", err)}
	}
	if rest.Code == errOutsideWindow && status/100 == 4 {
		return fmt.Errorf("twilio: send: %w: %w: %w", tandem.Errorf(tandem.EINVALID,
			"WhatsApp accepts only templates more than 24 hours after the customer's last message (error %d)", rest.Code),
			connectors.ErrOutsideWindow, err)
	}
	if why, ok := undeliverable[rest.Code]; ok && status/100 == 4 {
		return fmt.Errorf("twilio: send: %w: %w",
			tandem.Errorf(tandem.EINVALID, "twilio cannot deliver to this recipient: %s (error %d)", why, rest.Code), err)
	}
	// Other errors (auth, sender configuration, 5xx, network) may be fixed by the operator
	// or by Twilio, so the worker retries them with backoff.
	if status == 0 {
		return fmt.Errorf("twilio: send: %w", err)
	}
	return fmt.Errorf("twilio: send: HTTP %d: %w", status, err)
}

// parseRetryAfter reads a Retry-After header in seconds or as an HTTP date, and returns
// DefaultRetryAfter when it is missing or unusable.
func parseRetryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return DefaultRetryAfter
	}
	if s, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return DefaultRetryAfter
}

// maxErrorBody bounds the error body kept for twilio-go to decode; Twilio's are tiny.
const maxErrorBody = 64 << 10

// callTransport carries one Send's request: it attaches the caller's ctx (twilio-go makes
// requests with context.Background()), rewrites the host to the base URL, and records the
// status and Retry-After header, which twilio-go drops from its errors.
type callTransport struct {
	ctx        context.Context
	base       *url.URL // nil: the library's host
	next       http.RoundTripper
	status     int
	retryAfter string
}

func (t *callTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	// The request's own context carries the http.Client's timeout; keep it, and also end
	// the request when the caller's ctx is done.
	ctx, cancel := context.WithCancel(t.ctx)
	stop := context.AfterFunc(req.Context(), cancel)
	done := func() { stop(); cancel() }
	req = req.Clone(ctx)
	if t.base != nil {
		req.URL.Scheme = t.base.Scheme
		req.URL.Host = t.base.Host
		req.URL.Path = strings.TrimSuffix(t.base.Path, "/") + req.URL.Path
		req.URL.RawPath = ""
		req.Host = ""
	}
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	res, err := next.RoundTrip(req)
	if err != nil {
		done()
		return nil, err
	}
	t.status, t.retryAfter = res.StatusCode, res.Header.Get("Retry-After")
	if res.StatusCode < 400 {
		res.Body = &doneBody{ReadCloser: res.Body, done: done}
		return res, nil
	}
	// twilio-go does not close an error response's body; read it here so the connection
	// is reused, and hand the library a copy.
	defer done()
	body, rerr := io.ReadAll(io.LimitReader(res.Body, maxErrorBody))
	res.Body.Close()
	if rerr != nil {
		return nil, rerr
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	return res, nil
}

// doneBody releases a request's context when its response body is closed.
type doneBody struct {
	io.ReadCloser
	done func()
}

func (b *doneBody) Close() error {
	err := b.ReadCloser.Close()
	b.done()
	return err
}

// maxSegments is the SMS segment limit of this send.
func (c *Connector) maxSegments() int {
	if c.cfg.MaxSegmentsFunc != nil {
		if n := c.cfg.MaxSegmentsFunc(); n >= 1 && n <= 10 {
			return n
		}
	}
	return c.cfg.MaxSegments
}
