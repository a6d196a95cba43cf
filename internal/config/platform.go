package config

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/caarlos0/env/v11"

	"outpost/internal/publish/platforms"
)

// Platform is one publishing platform's OAuth app and API origin.
type Platform struct {
	ClientID     string
	ClientSecret string
	// BaseURL, when set, replaces every origin of the platform (OAuth
	// authorize and token endpoints, API, uploads) with one, keeping the
	// paths: an emulator such as `outpost sandbox`. Empty: the real
	// platform.
	BaseURL string
}

// Configured reports whether the platform has an OAuth app: without one
// its accounts cannot be connected.
func (p Platform) Configured() bool { return p.ClientID != "" && p.ClientSecret != "" }

// platformSpec is one platform's variables: OUTPOST_<PLATFORM>_CLIENT_ID,
// _CLIENT_SECRET (or _CLIENT_SECRET_FILE) and _BASE_URL, where <PLATFORM>
// is the platform descriptor's Env.
type platformSpec struct {
	ClientID     string `env:"CLIENT_ID"`
	ClientSecret string `env:"CLIENT_SECRET"`
	BaseURL      string `env:"BASE_URL"`
}

// parsePlatforms reads every registered platform's variables from vars.
func parsePlatforms(vars map[string]string) (map[string]platformSpec, error) {
	out := map[string]platformSpec{}
	var errs []error
	for _, d := range platforms.All() {
		var sp platformSpec
		if err := env.ParseWithOptions(&sp, env.Options{Environment: vars, Prefix: EnvPrefix + d.Env + "_"}); err != nil {
			errs = append(errs, envErrors(err)...)
		}
		out[d.ID] = sp
	}
	return out, errors.Join(errs...)
}

// platformFileVars are the platform secrets that may come from *_FILE.
func platformFileVars() []string {
	var out []string
	for _, d := range platforms.All() {
		out = append(out, d.Env+"_CLIENT_SECRET")
	}
	return out
}

// resolvePlatforms validates the platform settings and applies the
// fallback of a platform without an app of its own to the app it shares
// (OAuth.AppFrom: Instagram uses Facebook's).
func resolvePlatforms(specs map[string]platformSpec, bad func(name, flagName, format string, args ...any)) map[string]Platform {
	out := map[string]Platform{}
	for _, d := range platforms.All() {
		sp := specs[d.ID]
		if from := d.OAuth.AppFrom; from != "" && sp.ClientID == "" && sp.ClientSecret == "" {
			app := specs[from]
			sp.ClientID, sp.ClientSecret = app.ClientID, app.ClientSecret
			if sp.BaseURL == "" {
				sp.BaseURL = app.BaseURL
			}
		}
		p := Platform{ClientID: strings.TrimSpace(sp.ClientID), ClientSecret: strings.TrimSpace(sp.ClientSecret)}
		up := d.Env
		if (p.ClientID == "") != (p.ClientSecret == "") {
			bad(up+"_CLIENT_ID", "", "set both %s_CLIENT_ID and %s_CLIENT_SECRET (or %s_CLIENT_SECRET_FILE), or neither", EnvPrefix+up, EnvPrefix+up, EnvPrefix+up)
		}
		if b := strings.TrimSpace(sp.BaseURL); b != "" {
			u, err := checkPublicURL(b)
			if err != nil {
				bad(up+"_BASE_URL", "", "%v", err)
			}
			p.BaseURL = u
		}
		out[d.ID] = p
	}
	return out
}

// checkAddr checks a host:port listen address.
func checkAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if port == "" {
		return fmt.Errorf("no port")
	}
	return nil
}
