package cli

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/procfs"
)

// pgBackends measures the CPU time of the PostgreSQL backends serving one application_name,
// when the server runs on this machine: the server's side of a turn, which the bench
// process's own CPU time leaves out.
type pgBackends struct {
	conn    *pgx.Conn
	appName string
}

// newPGBackends returns nil when the server at dsn is not local or /proc is missing.
func newPGBackends(ctx context.Context, dsn, appName string) *pgBackends {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil
	}
	switch u.Hostname() {
	case "127.0.0.1", "localhost", "::1":
	default:
		return nil
	}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		return nil
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil
	}
	return &pgBackends{conn: conn, appName: appName}
}

// cpu returns the CPU time each backend of the application has used so far, by pid.
func (p *pgBackends) cpu(ctx context.Context) (map[int]time.Duration, error) {
	rows, err := p.conn.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, p.appName)
	if err != nil {
		return nil, fmt.Errorf("list backends: %w", err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, fmt.Errorf("list backends: %w", err)
	}
	out := make(map[int]time.Duration, len(pids))
	for _, pid := range pids {
		if d, ok := procCPU(int(pid)); ok {
			out[int(pid)] = d
		}
	}
	return out, nil
}

// since returns the CPU time the application's backends used after before was taken
// (a backend started since counts whole).
func (p *pgBackends) since(ctx context.Context, before map[int]time.Duration) (time.Duration, error) {
	now, err := p.cpu(ctx)
	if err != nil {
		return 0, err
	}
	var total time.Duration
	for pid, d := range now {
		total += d - before[pid]
	}
	return total, nil
}

func (p *pgBackends) close(ctx context.Context) { p.conn.Close(ctx) }

// procCPU is a process's user + system CPU time so far, from /proc.
func procCPU(pid int) (time.Duration, bool) {
	p, err := procfs.NewProc(pid)
	if err != nil {
		return 0, false
	}
	st, err := p.Stat()
	if err != nil {
		return 0, false
	}
	return time.Duration(st.CPUTime() * float64(time.Second)), true
}
