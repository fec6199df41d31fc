package bots

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage"
)

// Notifier delivers a one-time code to an identity (an email, an SMS) so the customer can
// prove they own it; botID is the bot asking, whose channel account sends it.
// Implementations are safe for concurrent use.
type Notifier interface {
	SendCode(ctx context.Context, botID string, channel tandem.Channel, address, code string) error
}

// codeWindow is how long a one-time code stays valid (it is accepted in its window and
// the next, so between 10 and 20 minutes).
const codeWindow = 10 * time.Minute

func randomSecret() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

func normalizeAddress(ch tandem.Channel, addr string) string {
	addr = strings.TrimSpace(addr)
	if ch == tandem.ChannelEmail {
		return strings.ToLower(addr)
	}
	return addr
}

// code derives the one-time code for (customer, channel, address) in a time window: no
// code is stored, so any replica sharing the link secret can verify it.
func (e *Engine) code(customerID string, ch tandem.Channel, addr string, window int64) string {
	m := hmac.New(sha256.New, e.secret)
	fmt.Fprintf(m, "code|%s|%s|%s|%d", customerID, ch, addr, window)
	sum := m.Sum(nil)
	return fmt.Sprintf("%06d", binary.BigEndian.Uint32(sum[:4])%1000000)
}

// SendLinkCode sends a one-time code from the bot over (channel, address) to prove
// customerID owns it.
func (e *Engine) SendLinkCode(ctx context.Context, botID, customerID string, ch tandem.Channel, addr string) error {
	if e.notifier == nil {
		return tandem.Errorf(tandem.EINTERNAL, "no notifier configured to send codes")
	}
	addr = normalizeAddress(ch, addr)
	if customerID == "" || addr == "" {
		return tandem.Errorf(tandem.EINVALID, "customer and address are required")
	}
	w := e.now().UnixNano() / int64(codeWindow)
	if err := e.notifier.SendCode(ctx, botID, ch, addr, e.code(customerID, ch, addr, w)); err != nil {
		return fmt.Errorf("send link code: %w", err)
	}
	return nil
}

// VerifyLinkCode checks a one-time code and, when it matches, links (channel, address) to
// customerID. A wrong or expired code returns EINVALID.
func (e *Engine) VerifyLinkCode(ctx context.Context, customerID string, ch tandem.Channel, addr, code string) error {
	addr = normalizeAddress(ch, addr)
	code = strings.TrimSpace(code)
	w := e.now().UnixNano() / int64(codeWindow)
	ok := false
	for _, win := range []int64{w, w - 1} {
		if hmac.Equal([]byte(code), []byte(e.code(customerID, ch, addr, win))) {
			ok = true
		}
	}
	if !ok {
		return tandem.Errorf(tandem.EINVALID, "the code is wrong or has expired")
	}
	_, err := e.LinkProvenIdentity(ctx, customerID, ch, addr, "customer:"+customerID)
	return err
}

// LinkProvenIdentity links (channel, externalID), which the customer has proven to own, to
// customerID: the identity (created if new) moves to the customer with its conversations,
// profile fields the customer lacks are copied from the identity's previous customer, and
// the store audits the link (reversible with storage UnlinkIdentity). Callers must have
// verified ownership (one-time code, signed link).
func (e *Engine) LinkProvenIdentity(ctx context.Context, customerID string, ch tandem.Channel, externalID, actor string) (*tandem.Identity, error) {
	cust, err := e.store.FindCustomerByID(ctx, customerID)
	if err != nil {
		return nil, fmt.Errorf("link identity: %w", err)
	}
	prev, id, err := e.store.ResolveIdentity(ctx, ch, externalID)
	if err != nil {
		return nil, fmt.Errorf("link identity: %w", err)
	}
	if id.CustomerID == customerID {
		return id, nil
	}
	missing := map[string]string{}
	for k, v := range prev.Profile {
		if _, ok := cust.Profile[k]; !ok && v != "" {
			missing[k] = v
		}
	}
	if err := e.store.LinkIdentity(ctx, id.ID, customerID, actor); err != nil {
		return nil, fmt.Errorf("link identity: %w", err)
	}
	if len(missing) > 0 {
		if _, err := e.store.UpdateCustomer(ctx, customerID, storage.CustomerUpdate{Profile: missing}); err != nil {
			return nil, fmt.Errorf("link identity: copy profile: %w", err)
		}
	}
	id.CustomerID, id.Verified = customerID, true
	return id, nil
}

type linkClaims struct {
	Customer string         `json:"c"`
	Channel  tandem.Channel `json:"ch"`
	Address  string         `json:"a"`
	Expires  int64          `json:"exp"`
}

// SignLink returns a token proving that whoever opens it on (channel, address) — e.g. a
// link sent by SMS — may join customerID. The token expires after ttl.
func (e *Engine) SignLink(customerID string, ch tandem.Channel, addr string, ttl time.Duration) string {
	c := linkClaims{Customer: customerID, Channel: ch, Address: normalizeAddress(ch, addr), Expires: e.now().Add(ttl).Unix()}
	payload, _ := json.Marshal(c)
	m := hmac.New(sha256.New, e.secret)
	m.Write([]byte("link|"))
	m.Write(payload)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(m.Sum(nil))
}

// ConfirmLink verifies a SignLink token and links its identity to its customer. A forged,
// malformed or expired token returns EUNAUTHORIZED.
func (e *Engine) ConfirmLink(ctx context.Context, token string) (*tandem.Identity, error) {
	p, s, ok := strings.Cut(token, ".")
	enc := base64.RawURLEncoding
	payload, err1 := enc.DecodeString(p)
	sig, err2 := enc.DecodeString(s)
	if !ok || err1 != nil || err2 != nil {
		return nil, tandem.Errorf(tandem.EUNAUTHORIZED, "malformed link")
	}
	m := hmac.New(sha256.New, e.secret)
	m.Write([]byte("link|"))
	m.Write(payload)
	if !hmac.Equal(sig, m.Sum(nil)) {
		return nil, tandem.Errorf(tandem.EUNAUTHORIZED, "invalid link")
	}
	var c linkClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, tandem.Errorf(tandem.EUNAUTHORIZED, "malformed link")
	}
	if e.now().Unix() > c.Expires {
		return nil, tandem.Errorf(tandem.EUNAUTHORIZED, "the link has expired")
	}
	return e.LinkProvenIdentity(ctx, c.Customer, c.Channel, c.Address, "customer:"+c.Customer)
}

// identityLinker lets one bot's flows' link_identity steps use the engine.
type identityLinker struct {
	e   *Engine
	bot string
}

func (l identityLinker) SendCode(ctx context.Context, customerID string, ch tandem.Channel, addr string) error {
	return l.e.SendLinkCode(ctx, l.bot, customerID, ch, addr)
}

func (l identityLinker) VerifyCode(ctx context.Context, customerID string, ch tandem.Channel, addr, code string) error {
	return l.e.VerifyLinkCode(ctx, customerID, ch, addr, code)
}
