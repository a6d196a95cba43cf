package instagram

import (
	"fmt"
	"net/http"

	"outpost/internal/publish"
	"outpost/internal/publish/facebook"
)

// ID is the platform's id.
const ID = "instagram"

// Descriptor returns Instagram's description of itself: Reels of a
// professional account, connected through Facebook Login (its resumable
// upload needs it) with Instagram scopes.
func Descriptor() publish.Descriptor {
	fb := facebook.Descriptor().OAuth
	return publish.Descriptor{
		ID:   ID,
		Name: "Instagram",
		Icon: icon,
		Fields: []publish.Field{
			{Name: publish.FieldCaption, Label: "Caption", Kind: publish.KindTextarea, Limit: MaxCaption, Count: publish.CountChars,
				Help: fmt.Sprintf("At most %d hashtags and %d @mentions.", MaxHashtags, MaxMentions)},
			{Name: publish.FieldPrivacy, Label: "Privacy", Kind: publish.KindSelect, Default: "public",
				Choices: []publish.Choice{{Value: "public", Label: "Public"}}, Help: "Instagram posts are public."},
		},
		// No scheduling parameter (platforms.md §5.3): the job layer waits.
		Features: publish.Features{},
		OAuth: publish.OAuth{
			AuthURL: fb.AuthURL, TokenURL: fb.TokenURL, ScopeSep: fb.ScopeSep, LongLived: true, AppFrom: facebook.ID,
			Scopes: []string{"instagram_basic", "instagram_content_publish", "pages_show_list", "pages_read_engagement", "business_management"},
		},
		Env:     "INSTAGRAM",
		Presets: []string{"instagram-reel", "instagram-feed"},
		NewFunc: func(baseURL string, hc *http.Client) publish.Publisher { return New(baseURL, hc) },
	}
}

// icon is a simplified, recognisable mark, not the brand's artwork.
const icon = `<svg viewBox="0 0 24 24"><defs><linearGradient id="ig" x1="0" y1="1" x2="1" y2="0"><stop offset="0" stop-color="#f9a825"/>` +
	`<stop offset=".5" stop-color="#e91e63"/><stop offset="1" stop-color="#7b1fa2"/></linearGradient></defs>` +
	`<rect x="2" y="2" width="20" height="20" rx="6" fill="url(#ig)"/><circle cx="12" cy="12" r="4.6" fill="none" stroke="#fff" stroke-width="2"/><circle cx="17.4" cy="6.6" r="1.3" fill="#fff"/></svg>`
