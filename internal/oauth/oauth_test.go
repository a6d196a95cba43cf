package oauth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/publish/facebook"
	"outpost/internal/sandbox"
)

const redirect = "https://outpost.example/oauth/callback"

func start(t *testing.T, opts sandbox.Options) (*sandbox.Server, string) {
	t.Helper()
	opts.Dir = t.TempDir()
	sb := sandbox.New(opts)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return sb, srv.URL
}

func client(t *testing.T, platform, base string) *Client {
	t.Helper()
	dc := sandbox.DefaultClient(platform)
	c, err := New(platform, base, Credentials{ClientID: dc.ID, ClientSecret: dc.Secret, RedirectURL: redirect},
		&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// authorize follows the authorize URL to the redirect and returns its query.
func authorize(t *testing.T, c *Client, state, verifier string) url.Values {
	t.Helper()
	resp, err := c.HTTP.Get(c.AuthCodeURL(state, verifier))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %s", resp.Status)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if !strings.HasPrefix(loc.String(), redirect) || loc.Query().Get("state") != state {
		t.Fatalf("redirect %s", loc)
	}
	return loc.Query()
}

func TestProviders_rebase(t *testing.T) {
	t.Parallel()
	p, err := Lookup(sandbox.TikTok, "http://127.0.0.1:9/")
	if err != nil {
		t.Fatal(err)
	}
	if p.AuthURL != "http://127.0.0.1:9/v2/auth/authorize/" || p.TokenURL != "http://127.0.0.1:9/v2/oauth/token/" {
		t.Errorf("rebased %s %s", p.AuthURL, p.TokenURL)
	}
	real, _ := Lookup(sandbox.YouTube, "")
	if real.TokenURL != "https://oauth2.googleapis.com/token" {
		t.Errorf("real token URL %s", real.TokenURL)
	}
}

func TestClient_AuthCodeURL(t *testing.T) {
	t.Parallel()
	v := NewVerifier()
	tests := []struct {
		platform string
		want     map[string]string
		absent   []string
	}{
		{sandbox.YouTube, map[string]string{"access_type": "offline", "prompt": "consent", "code_challenge_method": "S256",
			"scope": "https://www.googleapis.com/auth/youtube.upload https://www.googleapis.com/auth/youtube.force-ssl"}, nil},
		{sandbox.TikTok, map[string]string{"client_key": "k", "scope": "user.info.basic,video.publish,video.upload", "code_challenge_method": "S256"}, nil},
		{sandbox.Facebook, map[string]string{"scope": "pages_show_list,pages_read_engagement,pages_manage_posts,publish_video,business_management"}, []string{"code_challenge"}},
		{sandbox.LinkedIn, map[string]string{"scope": "openid profile w_member_social"}, []string{"code_challenge"}},
	}
	for _, tt := range tests {
		c, _ := New(tt.platform, "", Credentials{ClientID: "k", RedirectURL: redirect}, nil)
		u, _ := url.Parse(c.AuthCodeURL("st", v))
		q := u.Query()
		for k, want := range tt.want {
			if q.Get(k) != want {
				t.Errorf("%s: %s = %q, want %q", tt.platform, k, q.Get(k), want)
			}
		}
		for _, k := range tt.absent {
			if q.Has(k) {
				t.Errorf("%s: unexpected %s", tt.platform, k)
			}
		}
	}
}

func TestClient_Exchange(t *testing.T) {
	t.Parallel()
	_, base := start(t, sandbox.Options{AutoApprove: true})
	for _, platform := range []string{sandbox.YouTube, sandbox.Facebook, sandbox.Instagram, sandbox.LinkedIn, sandbox.TikTok} {
		t.Run(platform, func(t *testing.T) {
			t.Parallel()
			c := client(t, platform, base)
			v := NewVerifier()
			q := authorize(t, c, "s-"+platform, v)
			tok, err := c.Exchange(context.Background(), q.Get("code"), v)
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken == "" || tok.Expiry.IsZero() {
				t.Fatalf("token %+v", tok)
			}
			switch platform {
			case sandbox.YouTube, sandbox.LinkedIn, sandbox.TikTok:
				if tok.RefreshToken == "" {
					t.Error("no refresh token")
				}
			}
			if platform == sandbox.TikTok && (tok.OpenID != sandbox.TikTokOpenID || tok.RefreshExpiry.IsZero() || !slices.Contains(tok.Scopes, "video.publish")) {
				t.Errorf("tiktok token %+v", tok)
			}
			// The code is single use.
			if _, err := c.Exchange(context.Background(), q.Get("code"), v); !errors.Is(err, ErrInvalidGrant) {
				t.Errorf("second exchange: %v, want ErrInvalidGrant", err)
			}
		})
	}
}

func TestClient_Exchange_pkce(t *testing.T) {
	t.Parallel()
	_, base := start(t, sandbox.Options{AutoApprove: true})
	for _, platform := range []string{sandbox.YouTube, sandbox.TikTok} {
		c := client(t, platform, base)
		q := authorize(t, c, "s", NewVerifier())
		_, err := c.Exchange(context.Background(), q.Get("code"), NewVerifier())
		var te *TokenError
		if !errors.As(err, &te) || te.Code != "invalid_grant" || !errors.Is(err, ErrInvalidGrant) {
			t.Errorf("%s: wrong verifier gave %v", platform, err)
		}
	}
}

func TestClient_Refresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, errors200 := range []bool{false, true} {
		sb, base := start(t, sandbox.Options{AutoApprove: true, Limits: sandbox.Limits{TikTokOAuthErrors200: errors200}})
		connect := func(platform string) (*Client, Token) {
			c := client(t, platform, base)
			v := NewVerifier()
			tok, err := c.Exchange(ctx, authorize(t, c, "s", v).Get("code"), v)
			if err != nil {
				t.Fatal(err)
			}
			return c, tok
		}

		// sandbox.TikTok rotates: the new refresh token differs and the old dies.
		c, tok := connect(sandbox.TikTok)
		next, err := c.Refresh(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		if next.RefreshToken == "" || next.RefreshToken == tok.RefreshToken || next.AccessToken == tok.AccessToken {
			t.Errorf("tiktok refresh did not rotate: %+v", next)
		}
		_, err = c.Refresh(ctx, tok)
		if !errors.Is(err, ErrInvalidGrant) || errcode.Of(err) != errcode.ConnectionExpired {
			t.Errorf("old tiktok refresh token (errors as 200: %v): %v", errors200, err)
		}
		if _, err := c.Refresh(ctx, next); err != nil {
			t.Errorf("rotated refresh token: %v", err)
		}

		// Google omits refresh_token on refresh: the old one is kept.
		c, tok = connect(sandbox.YouTube)
		next, err = c.Refresh(ctx, tok)
		if err != nil || next.RefreshToken != tok.RefreshToken || next.AccessToken == tok.AccessToken {
			t.Errorf("youtube refresh %+v, %v", next, err)
		}

		// sandbox.LinkedIn keeps the refresh token and its original expiry.
		c, tok = connect(sandbox.LinkedIn)
		next, err = c.Refresh(ctx, tok)
		if err != nil || next.RefreshToken != tok.RefreshToken || next.RefreshExpiry.After(tok.RefreshExpiry.Add(2e9)) {
			t.Errorf("linkedin refresh %+v, %v", next, err)
		}

		// A revoked grant is expired, not temporary.
		c, tok = connect(sandbox.YouTube)
		if err := sb.Inject(sandbox.Fault{Platform: sandbox.YouTube, Kind: sandbox.FaultRevoke}); err != nil {
			t.Fatal(err)
		}
		_, err = c.Refresh(ctx, tok)
		var te *TokenError
		if !errors.As(err, &te) || !te.Expired() || te.Temporary() || te.Status != http.StatusBadRequest {
			t.Errorf("revoked youtube refresh: %v", err)
		}
	}
}

func TestClient_facebookLongLivedAndPages(t *testing.T) {
	t.Parallel()
	_, base := start(t, sandbox.Options{AutoApprove: true})
	c := client(t, sandbox.Facebook, base)
	tok, err := c.Exchange(context.Background(), authorize(t, c, "s", "").Get("code"), "")
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken != "" || tok.Expiry.Before(time.Now().AddDate(0, 0, 59)) {
		t.Errorf("token %+v", tok)
	}
	pages, err := facebook.New(base, http.DefaultClient).Pages(context.Background(), tok.AccessToken)
	if err != nil || len(pages) != 1 || pages[0].AccessToken == "" || pages[0].InstagramID != sandbox.InstagramUserID {
		t.Fatalf("pages %+v, %v", pages, err)
	}
	// "Refreshing" a live sandbox.Facebook token exchanges it for a new one.
	next, err := c.Refresh(context.Background(), tok)
	if err != nil || next.AccessToken == "" || next.AccessToken == tok.AccessToken {
		t.Errorf("facebook refresh %+v, %v", next, err)
	}
}

func TestConsentPage(t *testing.T) {
	t.Parallel()
	_, base := start(t, sandbox.Options{})
	c := client(t, sandbox.LinkedIn, base)
	resp, err := c.HTTP.Get(c.AuthCodeURL("st", ""))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), `id="approve"`) {
		t.Fatalf("consent page %s: %.300s", resp.Status, page)
	}
	authURL, _ := url.Parse(c.AuthCodeURL("st", ""))
	for decision, want := range map[string]string{"approve": "code", "deny": "error"} {
		form := authURL.Query()
		form.Set("decision", decision)
		resp, err := c.HTTP.PostForm(authURL.Scheme+"://"+authURL.Host+authURL.Path, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || loc.Query().Get(want) == "" || loc.Query().Get("state") != "st" {
			t.Errorf("%s: %s %s", decision, resp.Status, loc)
		}
	}
}
