package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tandemhq/tandem/bots"
)

func runBots(ctx context.Context, env Env, args []string) error {
	return dispatch(ctx, env, "tandem bots", map[string]command{
		"validate": {"check bot folders (a bot folder, or a folder of bot folders)", runBotsValidate},
		"new":      {"create a bot folder to start from, with intents, a knowledge article and tests", runBotsNew},
	}, args)
}

// runBotsValidate loads every bot folder named (or found one level below a named folder)
// and prints each problem as file:line: field: message.
func runBotsValidate(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tandem bots validate")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "Usage: tandem bots validate DIR...\n\nDIR is a bot folder (with bot.yaml) or a folder of bot folders.")
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: tandem bots validate needs a folder", errUsage)
	}
	var dirs []string
	for _, d := range fs.Args() {
		if _, err := os.Stat(filepath.Join(d, "bot.yaml")); err == nil {
			dirs = append(dirs, d)
			continue
		}
		entries, err := os.ReadDir(d)
		if err != nil {
			return fmt.Errorf("%w: %s", errUsage, err)
		}
		found := false
		for _, e := range entries {
			if _, err := os.Stat(filepath.Join(d, e.Name(), "bot.yaml")); e.IsDir() && err == nil {
				dirs = append(dirs, filepath.Join(d, e.Name()))
				found = true
			}
		}
		if !found {
			return fmt.Errorf("%w: no bot.yaml in %s or its sub-folders", errUsage, d)
		}
	}
	failed := 0
	for _, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return err
		}
		def, err := bots.Load(os.DirFS(filepath.Dir(abs)), filepath.Base(abs))
		if err != nil {
			failed++
			fmt.Fprintf(env.Stdout, "FAIL %s\n", d)
			var joined interface{ Unwrap() []error }
			if errors.As(err, &joined) {
				for _, e := range joined.Unwrap() {
					fmt.Fprintf(env.Stdout, "  %v\n", e)
				}
			} else {
				fmt.Fprintf(env.Stdout, "  %v\n", err)
			}
			continue
		}
		examples := 0
		for _, in := range def.Intents {
			examples += len(in.Examples)
		}
		fmt.Fprintf(env.Stdout, "ok   %s (bot %s): %d intents, %d examples, %d responses, %d flows\n",
			d, def.ID, len(def.Intents), examples, len(def.Responses), len(def.Flows))
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d bots failed validation", failed, len(dirs))
	}
	return nil
}
