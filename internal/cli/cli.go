// Package cli is the `outpost` command line: one-shot exports, probing and
// the preset list, plus the entry points of the long-running modes.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"outpost/internal/errcode"
)

// Exit codes scripts can rely on.
const (
	ExitOK       = 0
	ExitFailed   = 1 // nothing was produced
	ExitUsage    = 2 // bad command line
	ExitPartial  = 3 // some targets failed, others succeeded
	ExitCanceled = 130
)

// Version is set at build time with -ldflags "-X outpost/internal/cli.Version=…".
var Version = "dev"

// Env is what a command may touch of the outside world.
type Env struct {
	Stdout io.Writer
	Stderr io.Writer
	// IsTerminal reports whether Stderr is a terminal (progress bars) or a
	// pipe (plain lines).
	IsTerminal bool
	Getenv     func(string) string
	Logger     *slog.Logger
}

// Command is a subcommand.
type Command struct {
	Name    string
	Summary string
	Run     func(ctx context.Context, env *Env, args []string) int
}

// Commands lists the subcommands; Serve and friends are added by the caller
// that wires the server, so this package does not depend on it.
func Commands() []Command {
	return []Command{
		{"export", "render a video to one or more platform formats", runExport},
		{"probe", "show what a media file contains", runProbe},
		{"presets", "list or show the built-in export presets", runPresets},
		{"version", "print the version", func(_ context.Context, env *Env, _ []string) int {
			fmt.Fprintln(env.Stdout, "outpost", Version)
			return ExitOK
		}},
	}
}

// Main runs the command line args (without the program name) and returns
// the exit code.
func Main(ctx context.Context, env *Env, args []string, extra ...Command) int {
	cmds := append(Commands(), extra...)
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(env.Stdout, cmds)
		return ExitOK
	}
	for _, c := range cmds {
		if c.Name == args[0] {
			return c.Run(ctx, env, args[1:])
		}
	}
	fmt.Fprintf(env.Stderr, "outpost: unknown command %q\n\n", args[0])
	usage(env.Stderr, cmds)
	return ExitUsage
}

func usage(w io.Writer, cmds []Command) {
	fmt.Fprintln(w, "Outpost renders a finished video to every platform format in one pass and publishes it.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: outpost COMMAND [options]")
	fmt.Fprintln(w)
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-9s %s\n", c.Name, c.Summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Example: outpost export master.mp4 --preset youtube-1080p --preset tiktok --out renders/")
	fmt.Fprintln(w, "Run `outpost COMMAND -h` for a command's options.")
}

// parseInterleaved parses flags that may come before or after positional
// arguments (`outpost export IN --preset x`), which flag.Parse alone stops at.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// listFlag is a repeatable flag; values may also be comma-separated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// fail prints err as one line with its remedy and returns the exit code
// for it.
func fail(env *Env, err error) int {
	fmt.Fprintln(env.Stderr, "outpost: "+errcode.Line(err, false))
	switch errcode.Of(err) {
	case errcode.Canceled:
		return ExitCanceled
	case errcode.InvalidOption, errcode.UnknownPreset:
		return ExitUsage
	}
	return ExitFailed
}

func newFlagSet(env *Env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: outpost %s %s\n\nOptions:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// flagExit maps a flag parse error to an exit code (help is not an error).
func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	return ExitUsage
}

func lookupEnv(env *Env, key, def string) string {
	if env.Getenv != nil {
		if v := env.Getenv(key); v != "" {
			return v
		}
	}
	return def
}
