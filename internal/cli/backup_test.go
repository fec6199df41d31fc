package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/app"
	"github.com/tandemhq/tandem/storage/sqlite"
)

// TestBackupCommand: a backup of the data folder holds its data; an existing destination,
// a missing store, PostgreSQL and a missing --to are usage errors (exit 2).
func TestBackupCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	data := t.TempDir()
	if out, code := runCLI(t, "migrate", "--data-dir", data); code != 0 {
		t.Fatalf("migrate: exit %d\n%s", code, out)
	}
	s, err := sqlite.Open(ctx, filepath.Join(data, app.SQLiteFile), sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ResolveIdentity(ctx, tandem.ChannelSMS, "+15550100"); err != nil {
		t.Fatal(err)
	}
	s.Close()

	to := filepath.Join(t.TempDir(), "backup.db")
	out, code := runCLI(t, "backup", "--data-dir", data, "--to", to)
	if code != 0 || !strings.Contains(out, "integrity check ok") {
		t.Fatalf("backup: exit %d\n%s", code, out)
	}
	b, err := sqlite.Open(ctx, to, sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.FindIdentity(ctx, tandem.ChannelSMS, "+15550100"); err != nil {
		t.Errorf("the backup lacks the customer: %v", err)
	}

	for name, args := range map[string][]string{
		"ErrExists":   {"--data-dir", data, "--to", to},
		"ErrNoStore":  {"--data-dir", t.TempDir(), "--to", filepath.Join(t.TempDir(), "x.db")},
		"ErrPostgres": {"--database-url", "postgres://localhost/x", "--to", filepath.Join(t.TempDir(), "x.db")},
		"ErrNoTo":     {"--data-dir", data},
	} {
		if _, code := runCLI(t, append([]string{"backup"}, args...)...); code != 2 {
			t.Errorf("%s: exit %d, want 2", name, code)
		}
	}
}
