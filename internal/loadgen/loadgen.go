// Package loadgen drives a Tandem server's REST channel with many concurrent simulated
// customers and measures throughput and latency. It only speaks HTTP, so it measures the
// server exactly as an integrator's traffic would reach it.
package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Config says how hard and how long to drive the server.
type Config struct {
	BaseURL   string        // e.g. http://127.0.0.1:8080
	Bot       string        // bot id
	Customers int           // concurrent simulated customers; default 64
	Duration  time.Duration // how long to measure; default 10s
	// Warmup is traffic before the measurement, from the same customers over the same
	// connections, so the measured turns start from a warm server instead of 64 customers
	// dialling and being created at once (in an open loop that start-up was most of p99).
	Warmup   time.Duration
	MaxTurns int // stop after this many measured turns (0 = no limit)
	// OnMeasure, when set, is called once as the measurement starts (the end of Warmup),
	// on its own goroutine, to take the readings the measurement is compared against; Run
	// returns after it did (or without calling it, when the run ends during the warm-up).
	OnMeasure func()
	// Rate, when positive, offers this many turns per second at evenly spaced times (open
	// loop) to the first free customer, and latency counts from a turn's scheduled time, so
	// time spent waiting for a free customer is not hidden. Zero is a closed loop: each
	// customer writes again as soon as its reply arrives, which measures the most turns per
	// second the server sustains, with latency mostly time queued behind other customers.
	Rate float64
	// Script is the customer messages each simulated customer cycles through.
	Script []string
}

// Result is what a run measured.
type Result struct {
	Turns          int     `json:"turns"`
	WarmupTurns    int     `json:"warmup_turns"` // successful turns before the measurement
	Errors         int     `json:"errors"`
	Seconds        float64 `json:"seconds"`
	TurnsPerSecond float64 `json:"turns_per_second"`
	P50Ms          float64 `json:"p50_ms"`
	P90Ms          float64 `json:"p90_ms"`
	P99Ms          float64 `json:"p99_ms"`
	MaxMs          float64 `json:"max_ms"`
	FirstError     string  `json:"first_error,omitempty"`
	// ByMessage is the latency of each script message on its own, in script order, so a
	// tail can be traced to the kind of turn that makes it.
	ByMessage []MessageLatency `json:"by_message"`
}

// MessageLatency is the latency of the turns that sent one script message.
type MessageLatency struct {
	Text  string  `json:"text"`
	Turns int     `json:"turns"`
	P50Ms float64 `json:"p50_ms"`
	P99Ms float64 `json:"p99_ms"`
}

// DefaultScript is a mix of the demo bot's traffic: greetings, knowledge questions, intents
// with responses, small talk and questions the bot cannot answer.
var DefaultScript = []string{
	"hi there",
	"How long does shipping take?",
	"what payment methods do you accept",
	"How do I reset my password?",
	"can I return shoes that don't fit",
	"thanks!",
	"do you ship to Canada?",
	"what is the meaning of life",
}

// Run drives the server until Duration passes or MaxTurns turns are done, whichever is first.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Customers <= 0 {
		cfg.Customers = 64
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 10 * time.Second
	}
	if len(cfg.Script) == 0 {
		cfg.Script = DefaultScript
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || base.Scheme != "http" || base.Host == "" {
		return Result{}, fmt.Errorf("load generator: base URL %q: want http://host:port", cfg.BaseURL)
	}
	path := fmt.Sprintf("%s/api/v1/bots/%s/messages", base.Path, url.PathEscape(cfg.Bot))

	ctx, cancel := context.WithTimeout(ctx, cfg.Warmup+cfg.Duration)
	defer cancel()
	var (
		turns    atomic.Int64
		warm     atomic.Int64
		errs     atomic.Int64
		firstErr atomic.Value
		mu       sync.Mutex
		lat      = make([][]time.Duration, len(cfg.Script)) // by script message
		wg       sync.WaitGroup
	)
	begin := time.Now()
	start := begin.Add(cfg.Warmup) // measurement starts
	// The measurement starts once OnMeasure has taken its readings: a customer whose turn
	// is due after start waits for it, so no measured turn precedes them however fast the
	// server answers (a timer alone fired after the first turns of a fast one).
	measuring := make(chan struct{})
	marked := make(chan struct{})
	go func() {
		defer close(marked)
		t := time.NewTimer(cfg.Warmup)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
		if cfg.OnMeasure != nil {
			cfg.OnMeasure()
		}
		close(measuring)
	}()
	// Run returns only after OnMeasure did, or once it never will: its caller reads what
	// OnMeasure wrote.
	defer func() { <-marked }()
	var tickets chan time.Time // scheduled send times in open-loop mode
	if cfg.Rate > 0 {
		tickets = make(chan time.Time, 1<<16)
		go offer(ctx, cfg.Rate, begin, tickets)
	}
	for c := 0; c < cfg.Customers; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			local := make([][]time.Duration, len(cfg.Script))
			user := fmt.Sprintf("bench-%d-%d", begin.UnixNano(), c)
			// Requests are encoded once: the generator shares the cores with the server.
			reqs := make([][]byte, len(cfg.Script))
			for i, text := range cfg.Script {
				body, _ := json.Marshal(map[string]string{"user": user, "text": text})
				reqs[i] = request(base.Host, path, body)
			}
			k := &conn{addr: base.Host}
			begun := false // the measurement has started
			defer k.close()
			for i := 0; ctx.Err() == nil; i++ {
				t0 := time.Now()
				if tickets != nil {
					var ok bool
					if t0, ok = <-tickets; !ok {
						break
					}
				}
				measured := !t0.Before(start)
				if measured && !begun {
					select {
					case <-measuring:
					case <-ctx.Done():
					}
					if ctx.Err() != nil {
						break
					}
					begun = true
					if tickets == nil {
						t0 = time.Now()
					}
				}
				if measured && cfg.MaxTurns > 0 && turns.Add(1) > int64(cfg.MaxTurns) {
					break
				}
				m := (c + i) % len(cfg.Script)
				err := k.post(ctx, reqs[m])
				d := time.Since(t0)
				if ctx.Err() != nil {
					break // a request cut off by the deadline is not a measurement
				}
				if !measured {
					if err == nil {
						warm.Add(1)
					}
					continue
				}
				if cfg.MaxTurns == 0 {
					turns.Add(1)
				}
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				local[m] = append(local[m], d)
			}
			mu.Lock()
			for m := range lat {
				lat[m] = append(lat[m], local[m]...)
			}
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	if elapsed <= 0 {
		return Result{}, fmt.Errorf("load generator: stopped during the warm-up (%v)", ctx.Err())
	}

	all := slices.Concat(lat...)
	res := Result{Turns: len(all), WarmupTurns: int(warm.Load()), Errors: int(errs.Load()), Seconds: elapsed.Seconds()}
	if s, ok := firstErr.Load().(string); ok {
		res.FirstError = s
	}
	if len(all) == 0 {
		return res, fmt.Errorf("no successful turns (first error: %s)", res.FirstError)
	}
	slices.Sort(all)
	res.TurnsPerSecond = float64(len(all)) / elapsed.Seconds()
	res.P50Ms = ms(percentile(all, 0.50))
	res.P90Ms = ms(percentile(all, 0.90))
	res.P99Ms = ms(percentile(all, 0.99))
	res.MaxMs = ms(all[len(all)-1])
	for m, l := range lat {
		ml := MessageLatency{Text: cfg.Script[m], Turns: len(l)}
		if len(l) > 0 {
			slices.Sort(l)
			ml.P50Ms, ml.P99Ms = ms(percentile(l, 0.50)), ms(percentile(l, 0.99))
		}
		res.ByMessage = append(res.ByMessage, ml)
	}
	return res, nil
}

// offer sends the scheduled time of a turn every 1/rate seconds from start until ctx ends,
// then closes tickets. It wakes about once a millisecond and sends every time that is due,
// so timer granularity does not lower the rate.
func offer(ctx context.Context, rate float64, start time.Time, tickets chan<- time.Time) {
	defer close(tickets)
	interval := time.Duration(float64(time.Second) / rate)
	next := start
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		for now := time.Now(); !next.After(now); next = next.Add(interval) {
			select {
			case tickets <- next:
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}

// request is a whole HTTP/1.1 POST of a JSON body, ready to write.
func request(host, path string, body []byte) []byte {
	var b bytes.Buffer
	b.WriteString("POST " + path + " HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: application/json\r\nContent-Length: ")
	b.WriteString(strconv.Itoa(len(body)))
	b.WriteString("\r\n\r\n")
	b.Write(body)
	return b.Bytes()
}

// conn is one simulated customer's keep-alive connection. Requests are written pre-encoded
// and replies parsed by net/http.ReadResponse on the customer's own goroutine: http.Client's
// two extra goroutines per connection took a tenth of the cores the generator shares with
// the server it measures.
type conn struct {
	addr string
	c    net.Conn
	br   *bufio.Reader
	stop func() bool
}

func (k *conn) post(ctx context.Context, req []byte) error {
	if k.c == nil {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", k.addr)
		if err != nil {
			return err
		}
		// The end of the run cuts off the reply in flight; it is not a measurement.
		k.stop = context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
		k.c, k.br = c, bufio.NewReader(c)
	}
	if _, err := k.c.Write(req); err != nil {
		k.close()
		return err
	}
	resp, err := http.ReadResponse(k.br, nil)
	if err != nil {
		k.close()
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		k.close()
		return fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		k.close()
		return err
	}
	if resp.Close {
		k.close()
	}
	return nil
}

func (k *conn) close() {
	if k.c != nil {
		k.stop()
		k.c.Close()
		k.c, k.br, k.stop = nil, nil, nil
	}
}

// percentile returns the p-quantile of sorted (nearest rank).
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(p*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
