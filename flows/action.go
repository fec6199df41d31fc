package flows

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/tidwall/gjson"
)

// SignatureHeader carries the hex HMAC-SHA256 of an action's request body, keyed with the
// bot's action secret.
const SignatureHeader = "X-Tandem-Signature"

// IdempotencyKeyHeader carries a key that is the same on every retry of one action call,
// and on the engine's re-runs of the turn that made it (see Runner.IdempotencyKey), so an
// action server can tell a repeat (a timeout it did answer, a turn that lost a race and
// ran again) from a new request, and not create a return twice.
const IdempotencyKeyHeader = "Idempotency-Key"

// Do performs an HTTP action: renders URL, headers and JSON body over d, signs the body,
// retries network errors, timeouts, 429 and 5xx up to a.Retries times with exponential
// backoff, and saves the JSON paths of a 2xx response into d.Slots. Every try carries one
// random IdempotencyKeyHeader.
func (r *Runner) Do(ctx context.Context, a *Action, d *Data) error {
	return r.do(ctx, a, d, "")
}

// do is Do with the idempotency key to send; empty means a random one.
func (r *Runner) do(ctx context.Context, a *Action, d *Data, key string) error {
	if key == "" {
		key = uuid.NewString()
	}
	url, err := a.URL.Render(d)
	if err != nil {
		return fmt.Errorf("url: %w", err)
	}
	var body []byte
	if len(a.Body) > 0 {
		m := make(map[string]string, len(a.Body))
		for k, t := range a.Body {
			if m[k], err = t.Render(d); err != nil {
				return fmt.Errorf("body %s: %w", k, err)
			}
		}
		if body, err = json.Marshal(m); err != nil {
			return fmt.Errorf("body: %w", err)
		}
	}
	headers := make(map[string]string, len(a.Headers)+1)
	for k, t := range a.Headers {
		k = http.CanonicalHeaderKey(k)
		if headers[k], err = t.Render(d); err != nil {
			return fmt.Errorf("header %s: %w", k, err)
		}
	}
	if _, own := headers[http.CanonicalHeaderKey(IdempotencyKeyHeader)]; !own {
		headers[IdempotencyKeyHeader] = key // unless the bot sends its own
	}
	client := r.Client
	if client == nil {
		client = http.DefaultClient
	}
	backoff := r.Backoff
	if backoff <= 0 {
		backoff = 100 * time.Millisecond
	}
	var resp []byte
	for attempt := 0; ; attempt++ {
		var retry bool
		resp, retry, err = r.attempt(ctx, client, a, url, headers, body)
		if err == nil {
			break
		}
		if !retry || attempt >= a.Retries {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff << attempt):
		}
	}
	for slot, path := range a.Save {
		res := gjson.GetBytes(resp, gjsonPath(path))
		if !res.Exists() {
			d.Slots[slot] = ""
			continue
		}
		d.Slots[slot] = res.String()
	}
	return nil
}

func (r *Runner) attempt(ctx context.Context, client *http.Client, a *Action, url string, headers map[string]string, body []byte) ([]byte, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, a.Timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, a.Method, url, rd)
	if err != nil {
		return nil, false, fmt.Errorf("request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if r.Secret != "" {
		req.Header.Set(SignatureHeader, Sign(r.Secret, body))
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, true, fmt.Errorf("%s %s: %w", a.Method, req.URL.Redacted(), err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, true, fmt.Errorf("read response: %w", err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		retry := res.StatusCode >= 500 || res.StatusCode == http.StatusTooManyRequests
		return nil, retry, &StatusError{Code: res.StatusCode}
	}
	return data, false, nil
}

// StatusError is a non-2xx action response.
type StatusError struct{ Code int }

func (e *StatusError) Error() string { return "HTTP " + strconv.Itoa(e.Code) }

// IsStatus reports whether err is a StatusError with the given code.
func IsStatus(err error, code int) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == code
}

// Sign returns the hex HMAC-SHA256 of body keyed with secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

var indexRE = regexp.MustCompile(`\[(\d+)\]`)

// gjsonPath turns "$.a.b[0].c" into gjson's "a.b.0.c".
func gjsonPath(p string) string {
	p = strings.TrimPrefix(p, "$")
	p = strings.TrimPrefix(p, ".")
	if p == "" {
		return "@this"
	}
	return indexRE.ReplaceAllString(p, ".$1")
}

var (
	emailRE  = regexp.MustCompile(`(?i)[a-z0-9._%+\-]+@[a-z0-9.\-]+\.[a-z]{2,}`)
	numberRE = regexp.MustCompile(`-?\d+(?:[.,]\d+)?`)
	phoneRE  = regexp.MustCompile(`\+?\d[\d\s().\-]{5,}\d`)
	dateRE   = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}\b`)
	moneyRE  = regexp.MustCompile(`(?i)(?:[$€£]\s?)?\d+(?:[.,]\d{1,2})?(?:\s?(?:usd|eur|gbp|dollars?|euros?))?`)
)
