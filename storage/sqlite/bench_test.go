package sqlite_test

import (
	"testing"

	"github.com/tandemhq/tandem/storage/storagetest"
)

// BenchmarkTurn measures one engine turn's store work (see storagetest.BenchTurn).
func BenchmarkTurn(b *testing.B) {
	for _, bc := range []struct {
		name        string
		parallelism int
	}{{"Serial", 0}, {"Parallel", 4}} {
		b.Run(bc.name, func(b *testing.B) {
			storagetest.BenchTurn(b, openTemp(b), 1000, bc.parallelism)
		})
	}
}
