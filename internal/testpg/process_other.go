//go:build !linux

package testpg

import (
	"context"
	"fmt"
	"net/url"
)

// process is a started server; starting one needs Linux (parent-death
// signal, setuid), elsewhere point OUTPOST_TEST_DATABASE_URL at a server.
type process struct{}

func findBinDir() (string, error) {
	return "", fmt.Errorf("%w: starting a server needs Linux", ErrNoPostgres)
}

func startProcess(context.Context, string, bool) (*process, error) { return nil, ErrNoPostgres }

func (p *process) url() *url.URL { return nil }

func (p *process) stop() error { return nil }
