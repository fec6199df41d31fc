package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/tandemhq/tandem/bots"
	"github.com/tandemhq/tandem/bots/demo"
	"github.com/tandemhq/tandem/evals/conversation"
	"github.com/tandemhq/tandem/evals/report"
)

// errFailed makes a command exit 1 after it printed its report.
var errFailed = errors.New("failed")

// runWriters are the report formats of `tandem eval run`.
var runWriters = map[string]func(io.Writer, conversation.Result) error{
	"text": conversation.WriteText, "json": conversation.WriteJSON, "junit": conversation.WriteJUnit, "html": report.RunHTML,
}

// runEvalRun plays a bot's conversation tests in process, as `tandem chat` would talk to
// the bot, and reports the verdicts and metrics. It exits 1 when a test fails.
func runEvalRun(ctx context.Context, env Env, args []string) error {
	flags := newFlagSet(env, "tandem eval run")
	useDemo := flags.Bool("demo", false, "test the built-in demo bot (the default without --bots)")
	botsDir := flags.String("bots", "", "folder of bot folders")
	botID := flags.String("bot", "", "the bot's folder inside --bots")
	glob := flags.String("tests", "tests/*.yaml", "test files, a glob relative to the bot's folder")
	format := flags.String("format", "text", "report format: text, json, junit or html (one self-contained page with charts)")
	out := flags.String("out", "", "write the report to this file instead of standard output")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	switch {
	case flags.NArg() > 0:
		return fmt.Errorf("%w: unexpected argument %q", errUsage, flags.Arg(0))
	case runWriters[*format] == nil:
		return fmt.Errorf("%w: --format must be text, json, junit or html, got %q", errUsage, *format)
	case *useDemo && *botsDir != "":
		return fmt.Errorf("%w: give --demo or --bots, not both", errUsage)
	case *botsDir != "" && *botID == "":
		return fmt.Errorf("%w: --bots needs --bot", errUsage)
	case *botsDir == "" && *botID != "" && *botID != "demo":
		return fmt.Errorf("%w: --bot %s needs --bots DIR", errUsage, *botID)
	}

	var testFS fs.FS = demo.FS
	dir := demo.Root
	if *botsDir != "" {
		d, err := findBotFolder(*botsDir, *botID)
		if err != nil {
			return err
		}
		testFS, dir = os.DirFS(*botsDir), d
	}
	tests, err := conversation.ParseFS(testFS, dir+"/"+*glob)
	if err != nil {
		return fmt.Errorf("read conversation tests: %w", err)
	}
	if len(tests) == 0 {
		return fmt.Errorf("%w: no test files match %s", errUsage, filepath.Join(*botsDir, dir, *glob))
	}
	engine, id, closeEngine, err := newEvalEngine(ctx, env, *botsDir, dir)
	if err != nil {
		return err
	}
	defer closeEngine()
	res := conversation.Run(ctx, engine, tests, conversation.Options{BotID: id})

	var b bytes.Buffer
	if err := runWriters[*format](&b, res); err != nil {
		return err
	}
	if err := writeOut(env, *out, b.Bytes()); err != nil {
		return err
	}
	if res.Failed() {
		return fmt.Errorf("%w: %d of %d conversation tests failed", errFailed, res.Metrics.Tests-res.Metrics.TestsPassed, res.Metrics.Tests)
	}
	return nil
}

// runEvalCompare prints what changed between two JSON reports of `tandem eval run` and
// exits 1 when anything regressed.
func runEvalCompare(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tandem eval compare")
	format := fs.String("format", "text", "report format: text, json or html (one self-contained page)")
	out := fs.String("out", "", "write the report to this file instead of standard output")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 2 {
		return fmt.Errorf("%w: usage: tandem eval compare [--format text|json|html] [--out FILE] BASE.json NEW.json", errUsage)
	}
	if *format != "text" && *format != "json" && *format != "html" {
		return fmt.Errorf("%w: --format must be text, json or html, got %q", errUsage, *format)
	}
	var runs [2]conversation.Result
	for i, p := range files {
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		runs[i], err = conversation.ReadJSON(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%w: %s: %w", errUsage, p, err)
		}
	}
	d := conversation.Compare(runs[0], runs[1])
	var b bytes.Buffer
	switch *format {
	case "json":
		err = conversation.WriteDiffJSON(&b, d)
	case "html":
		err = report.DiffHTML(&b, files[0], files[1], d)
	default:
		err = conversation.WriteDiff(&b, d)
	}
	if err != nil {
		return err
	}
	if err := writeOut(env, *out, b.Bytes()); err != nil {
		return err
	}
	if d.Regressed() {
		return fmt.Errorf("%w: the new run regressed", errFailed)
	}
	return nil
}

// parseInterspersed parses fs's flags wherever they stand among args ("BASE NEW --format
// html" as well as "--format html BASE NEW") and returns the other arguments in order.
func parseInterspersed(flags *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := parseFlags(flags, args); err != nil {
			return nil, err
		}
		if flags.NArg() == 0 {
			return rest, nil
		}
		rest = append(rest, flags.Arg(0))
		args = flags.Args()[1:]
	}
}

// newEvalEngine builds the engine `tandem chat` builds (newLocalEngine) over a temporary
// SQLite store. It loads the demo bot when botsDir is empty, else the bot folder dir of
// botsDir, and returns the loaded bot's id; close releases all of it.
func newEvalEngine(ctx context.Context, env Env, botsDir, dir string) (engine *bots.Engine, botID string, close func(), err error) {
	tmp, err := os.MkdirTemp("", "tandem-eval-")
	if err != nil {
		return nil, "", nil, fmt.Errorf("temporary store: %w", err)
	}
	// Migration and ingest notices would bury the report; warnings still reach stderr.
	le, err := newLocalEngine(ctx, env, filepath.Join(tmp, "eval.db"), printNotifier{io.Discard}, newLogger(env, "warn"),
		func(reg *bots.Registry) error {
			var bot *bots.Bot
			var err error
			if botsDir == "" {
				bot, err = reg.LoadFS(ctx, demo.FS, demo.Root)
			} else {
				bot, err = reg.LoadFS(ctx, os.DirFS(botsDir), dir)
			}
			if err != nil {
				return fmt.Errorf("load bot: %w", err)
			}
			botID = bot.Def.ID
			return nil
		})
	if err != nil {
		_ = os.RemoveAll(tmp)
		return nil, "", nil, err
	}
	return le.Engine, botID, func() { le.Close(); _ = os.RemoveAll(tmp) }, nil
}

// findBotFolder returns the sub-folder of root that holds bot id: the folder named id, or
// else the one whose bot.yaml declares that id.
func findBotFolder(root, id string) (string, error) {
	fsys := os.DirFS(root)
	if _, err := fs.Stat(fsys, path.Join(id, "bot.yaml")); err == nil {
		return id, nil
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errUsage, err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if def, err := bots.Load(fsys, e.Name()); err == nil && def.ID == id {
			return e.Name(), nil
		}
	}
	return "", fmt.Errorf("%w: no bot %q in %s", errUsage, id, root)
}

// writeOut writes data to the file path, or to standard output when path is empty.
func writeOut(env Env, path string, data []byte) error {
	if path == "" {
		_, err := env.Stdout.Write(data)
		return err
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
