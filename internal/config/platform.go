package config

import (
	"fmt"
	"net"
	"strings"
)

// PlatformNames are the publishing platforms configured here, in display
// order. Instagram connects through Facebook Login: without settings of its
// own it uses Facebook's app.
var PlatformNames = []string{"youtube", "facebook", "instagram", "linkedin", "tiktok"}

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

// platformSpec is one platform's variables.
type platformSpec struct {
	ClientID     string `env:"CLIENT_ID"`
	ClientSecret string `env:"CLIENT_SECRET"`
	BaseURL      string `env:"BASE_URL"`
}

// platformsSpec holds the variables of every platform:
// OUTPOST_<PLATFORM>_CLIENT_ID, _CLIENT_SECRET (or _CLIENT_SECRET_FILE)
// and _BASE_URL.
type platformsSpec struct {
	YouTube   platformSpec `envPrefix:"YOUTUBE_"`
	Facebook  platformSpec `envPrefix:"FACEBOOK_"`
	Instagram platformSpec `envPrefix:"INSTAGRAM_"`
	LinkedIn  platformSpec `envPrefix:"LINKEDIN_"`
	TikTok    platformSpec `envPrefix:"TIKTOK_"`
}

func (ps platformsSpec) byName() map[string]platformSpec {
	return map[string]platformSpec{
		"youtube": ps.YouTube, "facebook": ps.Facebook, "instagram": ps.Instagram,
		"linkedin": ps.LinkedIn, "tiktok": ps.TikTok,
	}
}

// platformFileVars are the platform secrets that may come from *_FILE.
func platformFileVars() []string {
	var out []string
	for _, p := range PlatformNames {
		out = append(out, strings.ToUpper(p)+"_CLIENT_SECRET")
	}
	return out
}

// resolvePlatforms validates the platform settings and applies Instagram's
// fallback to Facebook's app.
func resolvePlatforms(ps platformsSpec, bad func(name, flagName, format string, args ...any)) map[string]Platform {
	out := map[string]Platform{}
	specs := ps.byName()
	for _, name := range PlatformNames {
		sp := specs[name]
		if name == "instagram" && sp.ClientID == "" && sp.ClientSecret == "" {
			fb := specs["facebook"]
			sp.ClientID, sp.ClientSecret = fb.ClientID, fb.ClientSecret
			if sp.BaseURL == "" {
				sp.BaseURL = fb.BaseURL
			}
		}
		p := Platform{ClientID: strings.TrimSpace(sp.ClientID), ClientSecret: strings.TrimSpace(sp.ClientSecret)}
		up := strings.ToUpper(name)
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
		out[name] = p
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
