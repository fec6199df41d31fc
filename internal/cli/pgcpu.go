package cli

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgBackends measures the CPU time of the PostgreSQL backends serving one application_name,
// when the server runs on this machine: the server's side of a turn, which the bench
// process's own CPU time leaves out.
type pgBackends struct {
	conn    *pgx.Conn
	appName string
}

// clockTicks is the unit of utime and stime in /proc/<pid>/stat (USER_HZ, 100 on Linux).
const clockTicks = 100

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

// procCPU reads utime + stime of a process from /proc.
func procCPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name may hold spaces; fields are counted after its closing parenthesis.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(ut+st) * time.Second / clockTicks, true
}
