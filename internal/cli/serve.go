package cli

import (
	"context"
	"flag"
	"fmt"
	"log/slog"

	"github.com/tandemhq/tandem/internal/app"
	"github.com/tandemhq/tandem/internal/config"
)

// serverFlags registers the flags shared by serve and migrate and returns a function that
// loads the configuration with those flags applied on top of file and environment.
func serverFlags(env Env, fs *flag.FlagSet) func() (config.Config, error) {
	path := fs.String("config", envDefault(env, "TANDEM_CONFIG", ""), "YAML configuration file (env TANDEM_CONFIG)")
	addr := fs.String("addr", "", "listen address (env TANDEM_ADDR, default :8080)")
	dataDir := fs.String("data-dir", "", "embedded store folder (env TANDEM_DATA_DIR, default ./data)")
	dbURL := fs.String("database-url", "", "PostgreSQL URL; empty uses the embedded store (env TANDEM_DATABASE_URL)")
	demo := fs.Bool("demo", false, "load the demo bot shipped in the binary (env TANDEM_DEMO)")
	botsDir := fs.String("bots", "", "folder with one sub-folder per bot, watched for changes (env TANDEM_BOTS_DIR)")
	baseURL := fs.String("base-url", "", "public base URL (env TANDEM_BASE_URL)")
	maxBytes := fs.Int("max-message-bytes", 0, "message size limit in bytes (env TANDEM_MAX_MESSAGE_BYTES, default 4096)")
	logLevel := fs.String("log-level", "", "debug, info, warn or error (env TANDEM_LOG_LEVEL)")
	migrate := fs.String("migrate", "", "apply pending migrations at start: true or false (env TANDEM_MIGRATE, default true)")
	return func() (config.Config, error) {
		getenv := env.Getenv
		overrides := map[string]string{
			"TANDEM_ADDR": *addr, "TANDEM_DATA_DIR": *dataDir, "TANDEM_DATABASE_URL": *dbURL,
			"TANDEM_BOTS_DIR": *botsDir, "TANDEM_BASE_URL": *baseURL, "TANDEM_LOG_LEVEL": *logLevel,
			"TANDEM_MIGRATE": *migrate,
		}
		if *maxBytes != 0 {
			overrides["TANDEM_MAX_MESSAGE_BYTES"] = fmt.Sprint(*maxBytes)
		}
		if *demo {
			overrides["TANDEM_DEMO"] = "true"
		}
		// Flags win over the environment, which wins over the file.
		withFlags := func(key string) string {
			if v := overrides[key]; v != "" {
				return v
			}
			return getenv(key)
		}
		return config.Load(*path, withFlags)
	}
}

func newLogger(env Env, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: l}))
}

func runServe(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tandem serve")
	load := serverFlags(env, fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := load()
	if err != nil {
		return fmt.Errorf("%w: %s", errUsage, err)
	}
	logger := newLogger(env, cfg.LogLevel)
	a, err := app.New(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Run(ctx)
}

func runMigrate(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tandem migrate")
	load := serverFlags(env, fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := load()
	if err != nil {
		return fmt.Errorf("%w: %s", errUsage, err)
	}
	if err := app.Migrate(ctx, cfg, newLogger(env, cfg.LogLevel)); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, "schema is up to date")
	return nil
}
