package cli

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"
)

// scaffold is the bot `tandem bots new` writes: templates with [[ ]] delimiters, so the
// responses' own {{ }} templates pass through.
//
//go:embed scaffold
var scaffold embed.FS

// newBotIDRE is what a bot id may be (bots.Load's rule).
var newBotIDRE = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

// runBotsNew writes a new bot folder that loads, answers and passes its own tests, as a
// starting point: greeting, goodbye, a handoff, and one knowledge article with its intent.
func runBotsNew(_ context.Context, env Env, args []string) error {
	flags := newFlagSet(env, "tandem bots new")
	dir := flags.String("dir", "bots", "folder of bot folders to create the bot in")
	name := flags.String("name", "", "the bot's display name (default: from the id)")
	flags.Usage = func() {
		fmt.Fprintln(env.Stderr, "Usage: tandem bots new [--dir bots] [--name NAME] ID\n\nID is lower-case letters, digits, - and _.")
		flags.PrintDefaults()
	}
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if flags.NArg() != 1 {
		return fmt.Errorf("%w: tandem bots new needs one bot id", errUsage)
	}
	id := flags.Arg(0)
	if !newBotIDRE.MatchString(id) {
		return fmt.Errorf("%w: bot id %q: use 1 to 64 lower-case letters, digits, - and _", errUsage, id)
	}
	if *name == "" {
		*name = strings.ToUpper(id[:1]) + strings.NewReplacer("-", " ", "_", " ").Replace(id[1:])
	}
	if strings.ContainsAny(*name, "\"\\\n\r") || len(*name) > 100 {
		return fmt.Errorf("%w: --name: up to 100 characters without quotes, backslashes or line breaks", errUsage)
	}
	target := filepath.Join(*dir, id)
	// Mkdir, not MkdirAll, for the bot's own folder: an existing bot is never overwritten.
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", *dir, err)
	}
	if err := os.Mkdir(target, 0o755); err != nil {
		if os.IsExist(err) {
			return fmt.Errorf("%w: %s already exists; nothing was written", errUsage, target)
		}
		return fmt.Errorf("create %s: %w", target, err)
	}
	data := struct{ ID, Name, Parent string }{id, *name, *dir}
	err := fs.WalkDir(scaffold, "scaffold", func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == "scaffold" {
			return err
		}
		dst := filepath.Join(target, filepath.FromSlash(strings.TrimPrefix(p, "scaffold/")))
		if d.IsDir() {
			return os.Mkdir(dst, 0o755)
		}
		src, err := scaffold.ReadFile(p)
		if err != nil {
			return err
		}
		t, err := template.New(path.Base(p)).Delims("[[", "]]").Parse(string(src))
		if err != nil {
			return err
		}
		f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		if err := t.Execute(f, data); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	})
	if err != nil {
		return fmt.Errorf("write %s: %w", target, err)
	}
	fmt.Fprintf(env.Stdout, "created %s\nnext: tandem bots validate %s\n      tandem eval run --bots %s --bot %s\n      tandem serve --bots %s\n",
		target, target, *dir, id, *dir)
	return nil
}
