// Package demo ships the Acme demo bot inside the binary: the bot folder (FS, rooted at
// "bot") and the fake-shop HTTP actions its flows call (ActionsHandler, under /demo/api/).
//
// The actions are deterministic so conversation tests and demos give the same answers
// every run: a few fixed orders (A100001 shipped, A100002 processing, A100003 delivered),
// generated data for other numbers starting with 1–8, and 404 for the rest.
package demo

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/tandemhq/tandem"
)

// FS holds the demo bot folder under the root "bot" (bot.yaml, intents.yaml, knowledge/, ...).
//
//go:embed all:bot
var FS embed.FS

// Root is the directory inside FS that holds the bot folder.
const Root = "bot"

// PathPrefix is the URL path prefix ActionsHandler serves.
const PathPrefix = "/demo/api/"

// SignatureHeader carries the hex HMAC-SHA256 of the request body, keyed with the shared secret.
const SignatureHeader = "X-Tandem-Signature"

// maxBody bounds request bodies; the actions take a few short fields.
const maxBody = 64 << 10

var orderRE = regexp.MustCompile(`\b[Aa]-?(\d{6})\b`)

// Order is the fake-shop view of one order returned by GET /demo/api/orders/{id}.
type Order struct {
	ID       string `json:"id"`
	Status   string `json:"status"` // processing, shipped, delivered
	Carrier  string `json:"carrier,omitempty"`
	Tracking string `json:"tracking,omitempty"`
	// ETA is a human phrase ("in 2 business days"); empty once delivered.
	ETA         string `json:"eta,omitempty"`
	DeliveredOn string `json:"delivered_on,omitempty"`
	Items       int    `json:"items"`
	Total       string `json:"total"`
	// Message is a ready-to-say sentence summarising the order.
	Message string `json:"message"`
}

// ReturnRequest is the body of POST /demo/api/returns.
type ReturnRequest struct {
	Order  string `json:"order"`
	Reason string `json:"reason"`
}

// Return is the response of POST /demo/api/returns.
type Return struct {
	ID       string `json:"id"`
	Order    string `json:"order"`
	Reason   string `json:"reason"`
	LabelURL string `json:"label_url"`
	// RefundDays is the business-day range for the refund once the parcel is received.
	RefundDays string `json:"refund_days"`
}

var knownOrders = map[string]Order{
	"A100001": {ID: "A100001", Status: "shipped", Carrier: "UPS", Tracking: "1Z999AA10123456784",
		ETA: "in 2 business days", Items: 2, Total: "$64.98"},
	"A100002": {ID: "A100002", Status: "processing", ETA: "ships within 1 business day, then 3–5 business days",
		Items: 1, Total: "$29.99"},
	"A100003": {ID: "A100003", Status: "delivered", Carrier: "USPS", Tracking: "9400111899223817364051",
		DeliveredOn: "November 18", Items: 3, Total: "$112.40"},
}

// Sign returns the hex HMAC-SHA256 of body keyed with secret, the value of SignatureHeader.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// ActionsHandler returns the handler of the demo actions, to be mounted at PathPrefix:
//
//	GET  /demo/api/orders/{id}   200 Order, 400 no (or several) order numbers, 404 unknown order
//	POST /demo/api/returns       200 Return for a ReturnRequest, 400 bad JSON, 404 unknown order
//
// When secret is not empty every request must carry SignatureHeader, the hex HMAC-SHA256 of
// the raw body (empty for GET), optionally prefixed "sha256="; otherwise it gets 401.
// Errors are JSON: {"error": {"code": "not_found", "message": "..."}}. Safe for concurrent use.
func ActionsHandler(secret string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /demo/api/orders/{id}", getOrder)
	mux.HandleFunc("POST /demo/api/returns", postReturn)
	return verify(secret, mux)
}

// verify checks the body signature, then hands the re-readable body to next.
func verify(secret string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				writeError(w, http.StatusRequestEntityTooLarge, tandem.ETOOLARGE, "request body too large")
				return
			}
			writeError(w, http.StatusBadRequest, tandem.EINVALID, "cannot read request body")
			return
		}
		if secret != "" {
			got := strings.TrimPrefix(strings.TrimSpace(r.Header.Get(SignatureHeader)), "sha256=")
			sig, err := hex.DecodeString(got)
			want, _ := hex.DecodeString(Sign(secret, body))
			if err != nil || !hmac.Equal(sig, want) {
				writeError(w, http.StatusUnauthorized, tandem.EUNAUTHORIZED, "missing or bad "+SignatureHeader)
				return
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

func getOrder(w http.ResponseWriter, r *http.Request) {
	id, ok := normalizeOrder(r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusBadRequest, tandem.EINVALID, "order numbers look like A123456")
		return
	}
	o, ok := findOrder(id)
	if !ok {
		writeError(w, http.StatusNotFound, tandem.ENOTFOUND, fmt.Sprintf("no order %s", id))
		return
	}
	writeJSON(w, http.StatusOK, o)
}

func postReturn(w http.ResponseWriter, r *http.Request) {
	var req ReturnRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, tandem.EINVALID, "body must be JSON {order, reason}")
		return
	}
	id, ok := normalizeOrder(req.Order)
	if !ok {
		writeError(w, http.StatusBadRequest, tandem.EINVALID, "order numbers look like A123456")
		return
	}
	reason := strings.TrimSpace(req.Reason)
	if reason == "" {
		writeError(w, http.StatusBadRequest, tandem.EINVALID, "reason is required")
		return
	}
	if _, ok := findOrder(id); !ok {
		writeError(w, http.StatusNotFound, tandem.ENOTFOUND, fmt.Sprintf("no order %s", id))
		return
	}
	sum := sha256.Sum256([]byte(id + "|" + strings.ToLower(reason)))
	rid := "R" + strings.ToUpper(hex.EncodeToString(sum[:4]))
	writeJSON(w, http.StatusOK, Return{
		ID:         rid,
		Order:      id,
		Reason:     reason,
		LabelURL:   "https://acme.example/returns/" + rid + "/label.pdf",
		RefundDays: "5–7",
	})
}

// normalizeOrder finds the one order number in s ("A123456", "a-123456", or a sentence
// containing one, as a flow's free-text answer may be) and returns it as "A123456".
func normalizeOrder(s string) (string, bool) {
	m := orderRE.FindAllStringSubmatch(s, 2)
	if len(m) != 1 {
		return "", false
	}
	return "A" + m[0][1], true
}

// findOrder returns a fixed order, or generated data for numbers whose first digit is 1–8;
// numbers starting with 0 or 9 (A000000, A999999) do not exist.
func findOrder(id string) (Order, bool) {
	o, ok := knownOrders[id]
	if !ok {
		if id[1] == '0' || id[1] == '9' {
			return Order{}, false
		}
		o = generateOrder(id)
	}
	o.Message = describe(o)
	return o, true
}

func generateOrder(id string) Order {
	sum := sha256.Sum256([]byte(id))
	o := Order{ID: id, Items: 1 + int(sum[1]%4)}
	cents := 1500 + (int(sum[2])<<8|int(sum[3]))%18000
	o.Total = fmt.Sprintf("$%d.%02d", cents/100, cents%100)
	carriers := []string{"UPS", "FedEx", "USPS"}
	o.Carrier = carriers[int(sum[4])%len(carriers)]
	tracking := strings.ToUpper(hex.EncodeToString(sum[5:13]))
	switch sum[0] % 3 {
	case 0:
		o.Status, o.Carrier = "processing", ""
		o.ETA = "ships within 1 business day, then 3–5 business days"
	case 1:
		o.Status, o.Tracking = "shipped", tracking
		o.ETA = fmt.Sprintf("in %d business days", 1+int(sum[13]%4))
	default:
		o.Status, o.Tracking = "delivered", tracking
		o.DeliveredOn = fmt.Sprintf("November %d", 1+int(sum[14]%20))
	}
	return o
}

func describe(o Order) string {
	switch o.Status {
	case "processing":
		return fmt.Sprintf("Order %s is being prepared in our warehouse; it %s.", o.ID, o.ETA)
	case "shipped":
		return fmt.Sprintf("Order %s has shipped with %s (tracking %s) and should arrive %s.", o.ID, o.Carrier, o.Tracking, o.ETA)
	default:
		return fmt.Sprintf("Order %s was delivered on %s by %s (tracking %s).", o.ID, o.DeliveredOn, o.Carrier, o.Tracking)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	type body struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	writeJSON(w, status, map[string]body{"error": {Code: code, Message: msg}})
}
