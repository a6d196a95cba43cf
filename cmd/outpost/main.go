// Command outpost renders finished videos to every platform format in one
// pass, checks them against each platform's rules and publishes them.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"outpost/internal/app"
	"outpost/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	env := &cli.Env{
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		IsTerminal: term.IsTerminal(int(os.Stderr.Fd())),
		Getenv:     os.Getenv,
		Logger:     slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	code := cli.Main(ctx, env, os.Args[1:], app.Commands()...)
	stop()
	os.Exit(code)
}
