// Package loadgen drives a Tandem server's REST channel with many concurrent simulated
// customers and measures throughput and latency. It only speaks HTTP, so it measures the
// server exactly as an integrator's traffic would reach it.
package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Config says how hard and how long to drive the server.
type Config struct {
	BaseURL   string        // e.g. http://127.0.0.1:8080
	Bot       string        // bot id
	Customers int           // concurrent simulated customers; default 64
	Duration  time.Duration // how long to drive; default 10s
	MaxTurns  int           // stop after this many turns (0 = no limit)
	// Script is the customer messages each simulated customer cycles through.
	Script []string
	Client *http.Client
}

// Result is what a run measured.
type Result struct {
	Turns          int     `json:"turns"`
	Errors         int     `json:"errors"`
	Seconds        float64 `json:"seconds"`
	TurnsPerSecond float64 `json:"turns_per_second"`
	P50Ms          float64 `json:"p50_ms"`
	P90Ms          float64 `json:"p90_ms"`
	P99Ms          float64 `json:"p99_ms"`
	MaxMs          float64 `json:"max_ms"`
	FirstError     string  `json:"first_error,omitempty"`
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
	client := cfg.Client
	if client == nil {
		client = &http.Client{
			Timeout: 30 * time.Second,
			Transport: &http.Transport{
				MaxIdleConns:        cfg.Customers * 2,
				MaxIdleConnsPerHost: cfg.Customers * 2,
				IdleConnTimeout:     time.Minute,
			},
		}
	}
	url := fmt.Sprintf("%s/api/v1/bots/%s/messages", cfg.BaseURL, cfg.Bot)

	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var (
		turns    atomic.Int64
		errs     atomic.Int64
		firstErr atomic.Value
		mu       sync.Mutex
		lat      = make([]time.Duration, 0, 1<<16)
		wg       sync.WaitGroup
	)
	start := time.Now()
	for c := 0; c < cfg.Customers; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			local := make([]time.Duration, 0, 1024)
			user := fmt.Sprintf("bench-%d-%d", start.UnixNano(), c)
			// Bodies are encoded once: the generator shares the cores with the server.
			bodies := make([][]byte, len(cfg.Script))
			for i, text := range cfg.Script {
				bodies[i], _ = json.Marshal(map[string]string{"user": user, "text": text})
			}
			for i := 0; ctx.Err() == nil; i++ {
				if cfg.MaxTurns > 0 && turns.Add(1) > int64(cfg.MaxTurns) {
					break
				}
				body := bodies[(c+i)%len(cfg.Script)]
				t0 := time.Now()
				err := post(ctx, client, url, body)
				d := time.Since(t0)
				if ctx.Err() != nil {
					break // a request cut off by the deadline is not a measurement
				}
				if cfg.MaxTurns == 0 {
					turns.Add(1)
				}
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				local = append(local, d)
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(start)

	res := Result{Turns: len(lat), Errors: int(errs.Load()), Seconds: elapsed.Seconds()}
	if s, ok := firstErr.Load().(string); ok {
		res.FirstError = s
	}
	if len(lat) == 0 {
		return res, fmt.Errorf("no successful turns (first error: %s)", res.FirstError)
	}
	slices.Sort(lat)
	res.TurnsPerSecond = float64(len(lat)) / elapsed.Seconds()
	res.P50Ms = ms(percentile(lat, 0.50))
	res.P90Ms = ms(percentile(lat, 0.90))
	res.P99Ms = ms(percentile(lat, 0.99))
	res.MaxMs = ms(lat[len(lat)-1])
	return res, nil
}

func post(ctx context.Context, client *http.Client, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	return nil
}

// percentile returns the p-quantile of sorted (nearest rank).
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(p*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
