package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/storage/sqlite"
)

// TestBackup copies a database that is being written to: the copy opens as a store, holds
// every customer created before the backup began, and passes the integrity check. A
// destination that exists, or a source that does not, is refused and nothing is written.
func TestBackup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "tandem.db")
	s, err := sqlite.Open(ctx, src, sqlite.Config{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 50 {
		if _, _, err := s.ResolveIdentity(ctx, tandem.ChannelSMS, "+1555010"+string(rune('0'+i/10))+string(rune('0'+i%10))); err != nil {
			t.Fatal(err)
		}
	}
	// Writes go on during the backup.
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; !stop.Load(); i++ {
			if _, _, err := s.ResolveIdentity(ctx, tandem.ChannelWebChat, "visitor-"+string(rune('a'+i%26))+string(rune('a'+i/26%26))); err != nil {
				t.Error(err)
				return
			}
		}
	})
	dst := filepath.Join(dir, "backup.db")
	err = sqlite.Backup(ctx, src, dst)
	stop.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}

	b, err := sqlite.Open(ctx, dst, sqlite.Config{})
	if err != nil {
		t.Fatalf("open the backup: %v", err)
	}
	defer b.Close()
	for i := range 50 {
		if _, err := b.FindIdentity(ctx, tandem.ChannelSMS, "+1555010"+string(rune('0'+i/10))+string(rune('0'+i%10))); err != nil {
			t.Errorf("customer %d missing from the backup: %v", i, err)
		}
	}

	tests := []struct {
		name, src, dst string
		want           string
	}{
		{"ErrExists", src, dst, tandem.ECONFLICT},
		{"ErrNoSource", filepath.Join(dir, "missing.db"), filepath.Join(dir, "other.db"), tandem.ENOTFOUND},
	}
	for _, tt := range tests {
		before, _ := os.ReadFile(tt.dst)
		if err := sqlite.Backup(ctx, tt.src, tt.dst); tandem.ErrorCode(err) != tt.want {
			t.Errorf("%s: err = %v, want %s", tt.name, err, tt.want)
		}
		if after, _ := os.ReadFile(tt.dst); string(after) != string(before) {
			t.Errorf("%s: the destination changed", tt.name)
		}
	}
}
