package postgres_test

import (
	"context"
	"testing"

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
