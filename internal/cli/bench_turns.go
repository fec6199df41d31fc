package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/procfs"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/app"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/loadgen"
	"github.com/tandemhq/tandem/retrieval"
	"github.com/tandemhq/tandem/storage"
)

// turnsBenchResult is what `tandem bench turns` prints.
type turnsBenchResult struct {
	Store       string `json:"store"`
	SyncCommit  string `json:"synchronous_commit,omitempty"`
	AnswerCache bool   `json:"answer_cache"`
	// AnswerCacheHitRate is the share of knowledge questions answered from the cache.
	AnswerCacheHitRate float64 `json:"answer_cache_hit_rate"`
	Customers          int     `json:"customers"`
	// Rate is the open-loop offered load in turns per second; 0 is a closed loop.
	Rate   float64 `json:"rate,omitempty"`
	Chunks int     `json:"chunks"`
	// The load generator's measurement: turns, warm-up turns, errors, seconds, turns per
	// second and latency percentiles, flattened into this object.
	loadgen.Result
	PeakRSSMB float64 `json:"peak_rss_mb"`
	// CPUMsPerTurn is this process's CPU time (server, engine, embedded store and the load
	// generator) per turn: unlike turns/s it barely moves when other programs share the cores.
	CPUMsPerTurn float64 `json:"cpu_ms_per_turn"`
	// PGCPUMsPerTurn is the CPU time of the PostgreSQL backends serving the app per turn,
	// when the server runs on this machine (background processes such as the WAL writer
	// are not counted).
	PGCPUMsPerTurn float64 `json:"pg_cpu_ms_per_turn,omitempty"`
	// StoredMessages counts the messages stored during the run, warm-up included.
	StoredMessages int `json:"stored_messages"`
	// StoredCustomerMessages counts the customers' own messages stored during the run: at
	// least one per successful turn, or a turn was acknowledged without being persisted.
	StoredCustomerMessages int `json:"stored_customer_messages"`
	GOMAXPROCS             int `json:"gomaxprocs"`
}

// runBenchTurns starts the real server with the demo bot on a fresh store whose knowledge
// base is grown to --chunks chunks, drives its REST channel with concurrent customers over
// HTTP, and reports throughput, latency and peak memory. Every turn is persisted; the count
// of stored messages is checked against the turns driven.
func runBenchTurns(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tandem bench turns")
	store := fs.String("store", "sqlite", "sqlite or postgres")
	dbURL := fs.String("database-url", envDefault(env, "TANDEM_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"), "PostgreSQL to benchmark in (a fresh schema is created and dropped)")
	customers := fs.Int("customers", 0, "simulated customers, each on its own connection (default 64 in a closed loop, 1024 with --rate)")
	rate := fs.Float64("rate", 0, "offer this many turns per second (open loop; latency counts from each turn's scheduled time); 0 drives as fast as the server answers (closed loop)")
	duration := fs.Duration("duration", 15*time.Second, "how long to drive the server")
	warmup := fs.Duration("warmup", 2*time.Second, "traffic before measuring")
	chunks := fs.Int("chunks", 10000, "grow the knowledge base to at least this many chunks")
	format := fs.String("format", "text", "text or json")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the measured run to this file")
	answerCache := fs.Bool("answer-cache", true, "keep recent knowledge answers in memory (the server's default); false searches the knowledge base on every question")
	syncCommit := fs.String("synchronous-commit", "", "PostgreSQL synchronous_commit for the app's sessions (e.g. off); empty keeps the server's setting")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if *customers == 0 {
		// A closed loop keeps every customer's next message in flight, so 64 saturate the
		// server. An open loop offers turns at a rate; it needs enough customers that a
		// slow moment does not leave the offered turns waiting for a free one (64 customers
		// cap the rate at 64 ÷ latency).
		*customers = 64
		if *rate > 0 {
			*customers = 1024
		}
	}

	cfg, err := config.Load("", func(string) string { return "" })
	if err != nil {
		return err
	}
	cfg.Addr = "127.0.0.1:0"
	cfg.Demo = true
	cfg.AnswerCache = answerCache
	if *syncCommit != "" && *store != "postgres" {
		return fmt.Errorf("%w: --synchronous-commit applies to --store postgres only", errUsage)
	}
	var pg *pgBackends
	switch *store {
	case "sqlite":
		dir, err := os.MkdirTemp("", "tandem-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.DataDir = dir
	case "postgres":
		dsn, drop, err := freshSchema(ctx, *dbURL)
		if err != nil {
			return err
		}
		defer drop()
		// The app's backends are told apart from others' by their application_name.
		appName := fmt.Sprintf("tandem-bench-%d", os.Getpid())
		if dsn, err = withDSNParam(dsn, "application_name", appName); err != nil {
			return err
		}
		if pg = newPGBackends(ctx, *dbURL, appName); pg != nil {
			defer pg.close(context.WithoutCancel(ctx))
		}
		if *syncCommit != "" {
			// pgx sends unknown DSN parameters as session settings.
			if dsn, err = withDSNParam(dsn, "synchronous_commit", *syncCommit); err != nil {
				return err
			}
		}
		cfg.DatabaseURL = dsn
	default:
		return fmt.Errorf("%w: --store must be sqlite or postgres", errUsage)
	}

	a, err := app.New(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	n, err := growKnowledge(ctx, a.KnowledgeBase(), a.Store(), "demo", *chunks)
	if err != nil {
		return err
	}
	// The upkeep a bulk ingestion schedules (PostgreSQL builds the vector index) would
	// otherwise run during the warm-up and the measurement.
	if st, ok := a.Store().(interface{ Settle(context.Context) error }); ok {
		if err := st.Settle(ctx); err != nil {
			return fmt.Errorf("settle store: %w", err)
		}
	}
	if *store == "postgres" {
		// Writing 10,000 chunks fills PostgreSQL's WAL; the checkpoints it requests would run
		// under the measured turns (back-to-back runs: 1,568–1,837 turns/s instead of ≈ 2,240).
		// A real server's knowledge was loaded long before; this needs the pg_checkpoint role.
		if err := checkpoint(ctx, *dbURL); err != nil {
			fmt.Fprintf(env.Stderr, "bench turns: no CHECKPOINT before measuring (%v); earlier writes may slow the run\n", err)
		}
	}
	if err := a.Listen(); err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go a.Run(runCtx)
	base := "http://" + a.Addr()

	// Every turn acknowledged from here on, warm-up included, must be stored.
	before, beforeCustomer, err := countMessages(ctx, a.Store())
	if err != nil {
		return err
	}
	var profile *os.File
	if *cpuProfile != "" {
		if profile, err = os.Create(*cpuProfile); err != nil {
			return err
		}
		defer profile.Close()
	}
	// The readings the measurement is compared against are taken when the warm-up ends.
	var (
		pgCPU0  map[int]time.Duration
		cpu0    time.Duration
		cache0  retrieval.CacheStats
		markErr error
	)
	mark := func() {
		if profile != nil {
			markErr = pprof.StartCPUProfile(profile)
		}
		if pg != nil && markErr == nil {
			pgCPU0, markErr = pg.cpu(ctx)
		}
		cpu0, cache0 = processCPU(), a.KnowledgeBase().AnswerCacheStats()
	}
	res, err := loadgen.Run(ctx, loadgen.Config{BaseURL: base, Bot: "demo", Customers: *customers, Warmup: *warmup, Duration: *duration, Rate: *rate, OnMeasure: mark})
	cpu, cache := processCPU()-cpu0, a.KnowledgeBase().AnswerCacheStats()
	hits, misses := cache.Hits-cache0.Hits, cache.Misses-cache0.Misses
	if profile != nil {
		pprof.StopCPUProfile()
	}
	if err == nil {
		err = markErr
	}
	if err != nil {
		return err
	}
	var pgCPU time.Duration
	if pg != nil {
		if pgCPU, err = pg.since(ctx, pgCPU0); err != nil {
			return err
		}
	}
	after, afterCustomer, err := countMessages(ctx, a.Store())
	if err != nil {
		return err
	}
	out := turnsBenchResult{
		Store: *store, SyncCommit: *syncCommit, AnswerCache: *answerCache, Customers: *customers, Rate: *rate, Chunks: n,
		Result: res, PeakRSSMB: peakRSSMB(), CPUMsPerTurn: cpu.Seconds() * 1000 / float64(max(res.Turns, 1)),
		PGCPUMsPerTurn:     pgCPU.Seconds() * 1000 / float64(max(res.Turns, 1)),
		AnswerCacheHitRate: float64(hits) / float64(max(hits+misses, 1)), StoredMessages: after - before, StoredCustomerMessages: afterCustomer - beforeCustomer, GOMAXPROCS: runtime.GOMAXPROCS(0),
	}
	// Each acknowledged turn stored its customer's message, in the same transaction as the
	// replies. (Counting all messages against two per turn was wrong: a turn relayed to an
	// agent during a handoff stores no bot reply.)
	if acked := out.WarmupTurns + out.Turns; out.StoredCustomerMessages < acked {
		return fmt.Errorf("only %d customer messages stored for %d turns: turns were not persisted", out.StoredCustomerMessages, acked)
	}
	if *format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(env.Stdout, "store %s, %d customers, %d chunks, GOMAXPROCS %d", out.Store, out.Customers, out.Chunks, out.GOMAXPROCS)
	if out.Rate > 0 {
		fmt.Fprintf(env.Stdout, ", %.0f turns/s offered", out.Rate)
	}
	if out.SyncCommit != "" {
		fmt.Fprintf(env.Stdout, ", synchronous_commit %s", out.SyncCommit)
	}
	fmt.Fprintln(env.Stdout)
	fmt.Fprintf(env.Stdout, "%d turns in %.1fs: %.0f turns/s, p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, %d errors, peak RSS %.0f MB, %.3f ms CPU per turn\n",
		out.Turns, out.Seconds, out.TurnsPerSecond, out.P50Ms, out.P90Ms, out.P99Ms, out.Errors, out.PeakRSSMB, out.CPUMsPerTurn)
	if out.PGCPUMsPerTurn > 0 {
		fmt.Fprintf(env.Stdout, "PostgreSQL backends: %.3f ms CPU per turn\n", out.PGCPUMsPerTurn)
	}
	for _, m := range out.ByMessage {
		fmt.Fprintf(env.Stdout, "  p50 %6.2f ms  p99 %6.2f ms  %q\n", m.P50Ms, m.P99Ms, m.Text)
	}
	return nil
}

// countMessages counts the messages of the demo bot's conversations, and those of them the
// customers wrote.
func countMessages(ctx context.Context, st storage.Store) (total, customer int, err error) {
	for offset := 0; ; offset += 500 {
		convs, err := st.ListConversations(ctx, storage.ConversationFilter{BotID: "demo", Limit: 500, Offset: offset})
		if err != nil {
			return 0, 0, err
		}
		for _, c := range convs {
			msgs, err := st.ListMessages(ctx, c.ID, storage.MessageFilter{})
			if err != nil {
				return 0, 0, err
			}
			total += len(msgs)
			for _, m := range msgs {
				if m.Role == tandem.RoleCustomer {
					customer++
				}
			}
		}
		if len(convs) < 500 {
			return total, customer, nil
		}
	}
}

// growKnowledge adds want synthetic one-chunk FAQ documents to collection and returns the
// collection's chunk count.
func growKnowledge(ctx context.Context, kb *retrieval.KnowledgeBase, st storage.Store, collection string, want int) (int, error) {
	stats, err := kb.Ingest(ctx, collection, retrieval.SyntheticSources(want), nil)
	if err != nil {
		return 0, fmt.Errorf("grow knowledge base: %w", err)
	}
	docs, err := st.ListDocuments(ctx, storage.DocumentFilter{Collection: collection, Limit: want + 1000})
	if err != nil {
		return 0, err
	}
	n := stats.Chunks
	for _, d := range docs {
		if strings.HasPrefix(retrieval.LocalID(collection, d.ID), "doc-") {
			continue // synthetic, counted above
		}
		chunks, err := st.ListChunks(ctx, d.ID)
		if err != nil {
			return 0, err
		}
		n += len(chunks)
	}
	return n, nil
}

// processCPU is the user + system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSSMB is the process's peak resident memory (VmHWM) in MB, 0 where /proc is missing.
func peakRSSMB() float64 {
	p, err := procfs.Self()
	if err != nil {
		return 0
	}
	st, err := p.NewStatus()
	if err != nil {
		return 0
	}
	return float64(st.VmHWM) / (1 << 20)
}
