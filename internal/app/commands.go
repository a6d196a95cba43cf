package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"outpost/internal/cli"
	"outpost/internal/config"
	"outpost/internal/errcode"
	"outpost/internal/jobs"
	"outpost/internal/store"
)

// Commands returns the long-running commands, for cli.Main.
func Commands() []cli.Command {
	return []cli.Command{
		{Name: "serve", Summary: "run the API and the workers in one process (--workers 0: API only)", Run: runServe},
		{Name: "worker", Summary: "run job workers only (scale-out: several on one PostgreSQL)", Run: runWorker},
		{Name: "migrate", Summary: "apply the database migrations (Outpost's and River's), then exit", Run: runMigrate},
		{Name: "keys", Summary: "create, list, revoke and rotate API keys on the configured database", Run: runKeys},
		{Name: "sandbox", Summary: "serve the platform emulators (YouTube, Facebook, Instagram, LinkedIn, TikTok) on --addr", Run: runSandbox},
	}
}

// stuckFlags are the job-recovery flags of serve and worker.
type stuckFlags struct {
	rescueAfter time.Duration
	nodeTimeout time.Duration
}

func (f *stuckFlags) register(fs *flag.FlagSet, env *cli.Env) error {
	rescue, err := envDuration(env, "OUTPOST_RESCUE_STUCK_JOBS_AFTER", jobs.DefaultRescueStuckJobsAfter)
	if err != nil {
		return err
	}
	node, err := envDuration(env, "OUTPOST_NODE_TIMEOUT", jobs.DefaultNodeTimeout)
	if err != nil {
		return err
	}
	fs.DurationVar(&f.rescueAfter, "rescue-stuck-jobs-after", rescue,
		"retry a job still running after this long, whatever its node says (River's last resort) ($OUTPOST_RESCUE_STUCK_JOBS_AFTER)")
	fs.DurationVar(&f.nodeTimeout, "node-timeout", node,
		"retry the jobs of a worker node silent for this long ($OUTPOST_NODE_TIMEOUT)")
	return nil
}

func envDuration(env *cli.Env, name string, def time.Duration) (time.Duration, error) {
	v := env.Getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, errcode.New(errcode.ConfigInvalid, "%s=%q: want a positive duration such as 30m", name, v)
	}
	return d, nil
}

func runServe(ctx context.Context, env *cli.Env, args []string) int {
	return runLong(ctx, env, "serve", args, true)
}

func runWorker(ctx context.Context, env *cli.Env, args []string) int {
	return runLong(ctx, env, "worker", args, false)
}

func runLong(ctx context.Context, env *cli.Env, name string, args []string, http bool) int {
	fs := newFlagSet(env, name)
	var sf stuckFlags
	if err := sf.register(fs, env); err != nil {
		return fail(env, err)
	}
	cfg, code, ok := load(env, fs, args)
	if !ok {
		return code
	}
	if !http && cfg.Workers == 0 {
		return fail(env, errcode.New(errcode.ConfigInvalid, "outpost worker with --workers 0 has nothing to do: use 1 or more"))
	}
	logger := cfg.NewLogger(env.Stderr)
	var shown slog.LogValuer = cfg
	if !http {
		shown = cfg.ForWorker()
	}
	logger.Info("starting outpost "+name, "version", cli.Version, "config", shown)
	a, err := New(ctx, Options{Config: cfg, Logger: logger, HTTP: http, Out: env.Stdout,
		RescueStuckJobsAfter: sf.rescueAfter, NodeTimeout: sf.nodeTimeout})
	if err != nil {
		return fail(env, err)
	}
	runErr := a.Run(ctx)
	if err := errors.Join(runErr, a.Close()); err != nil {
		return fail(env, err)
	}
	return cli.ExitOK
}

func runMigrate(ctx context.Context, env *cli.Env, args []string) int {
	cfg, code, ok := load(env, newFlagSet(env, "migrate"), args)
	if !ok {
		return code
	}
	s, err := store.Open(ctx, cfg.DatabaseURL, cfg.NewLogger(env.Stderr))
	if err != nil {
		return fail(env, err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		return fail(env, err)
	}
	v, err := s.MigrationVersion(ctx)
	if err != nil {
		return fail(env, err)
	}
	fmt.Fprintf(env.Stdout, "%s database is up to date: schema version %d, River's tables included\n", s.Engine(), v)
	return cli.ExitOK
}

func newFlagSet(env *cli.Env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: outpost %s [options]\n\nEvery option can also be set by the environment variable named with it.\n\nOptions:\n", name)
		fs.PrintDefaults()
	}
	return fs
}

// load reads the configuration: the environment, then the flags.
func load(env *cli.Env, fs *flag.FlagSet, args []string) (*config.Config, int, bool) {
	cfg, err := config.Load(os.Environ(), fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil, cli.ExitOK, false
	}
	if err != nil {
		if errcode.Of(err) == errcode.Internal {
			// A flag parse error, already printed with the usage.
			return nil, cli.ExitUsage, false
		}
		return nil, fail(env, err), false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "outpost %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return nil, cli.ExitUsage, false
	}
	return cfg, 0, true
}

// fail prints err as one line with its code, cause and remedy, and returns
// the exit code.
func fail(env *cli.Env, err error) int {
	fmt.Fprintln(env.Stderr, "outpost: "+errcode.Line(err, true))
	if errcode.Of(err) == errcode.ConfigInvalid {
		return cli.ExitUsage
	}
	return cli.ExitFailed
}
