package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/pgtest"
	"github.com/tandemhq/tandem/storage/postgres"

	"github.com/tandemhq/tandem/storage/storagetest"
)

// BenchmarkTurn measures one engine turn's store work (see storagetest.BenchTurn).
func BenchmarkTurn(b *testing.B) {
	for _, bc := range []struct {
		name        string
		parallelism int
		cfg         postgres.Config
	}{
		{"Serial", 0, postgres.Config{}},
		{"Parallel", 16, postgres.Config{MaxConns: 32}},
		{"ParallelAsyncCommit", 16, postgres.Config{MaxConns: 32, SynchronousCommit: "off"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := bc.cfg
			cfg.Migrate, cfg.Logger = true, quiet
			s, err := postgres.Open(context.Background(), pgtest.NewSchema(b), cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			storagetest.BenchTurn(b, s, 1000, bc.parallelism)
		})
	}
}

// BenchmarkSearch10k measures each side of a knowledge search over 10,000 chunks (see
// storagetest.BenchSearch10k).
func BenchmarkSearch10k(b *testing.B) {
	s, err := postgres.Open(context.Background(), pgtest.NewSchema(b), postgres.Config{Migrate: true, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	// The store analyzes the tables once writes pause.
	storagetest.BenchSearch10k(b, s, func() { time.Sleep(5 * time.Second) })
}
