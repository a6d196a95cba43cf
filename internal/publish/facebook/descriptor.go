package facebook

import (
	"net/http"
	"time"

	"outpost/internal/publish"
)

// ID is the platform's id.
const ID = "facebook"

// GraphVersion is the Graph API version of the OAuth dialog and token URLs.
const GraphVersion = "v24.0"

// Descriptor returns Facebook's description of itself: Page videos and
// Reels.
func Descriptor() publish.Descriptor {
	return publish.Descriptor{
		ID:   ID,
		Name: "Facebook",
		Icon: icon,
		Fields: []publish.Field{
			{Name: publish.FieldCaption, Label: "Text", Kind: publish.KindTextarea, Limit: MaxText, Count: publish.CountChars},
			{Name: publish.FieldTitle, Label: "Video title", Kind: publish.KindText, Help: "Page videos only; Reels have none."},
			{Name: publish.FieldFormat, Label: "Post as", Kind: publish.KindSelect, Choices: []publish.Choice{
				{Value: "video", Label: "Page video"}, {Value: FormatReel, Label: "Reel"},
			}, Help: "Empty: a Reel for the facebook-reel preset, else a Page video."},
			{Name: publish.FieldPrivacy, Label: "Privacy", Kind: publish.KindSelect, Default: "public",
				Choices: []publish.Choice{{Value: "public", Label: "Public"}}, Help: "Page posts are public."},
		},
		// scheduled_publish_time: 10 minutes to 30 days ahead (platforms.md
		// §4.5; 30 days is the stricter of the sources).
		Features: publish.Features{NativeSchedule: true, Thumbnail: true, MinScheduleAhead: 10 * time.Minute,
			MaxScheduleAhead: 30 * 24 * time.Hour},
		OAuth: publish.OAuth{
			AuthURL:  "https://www.facebook.com/" + GraphVersion + "/dialog/oauth",
			TokenURL: "https://graph.facebook.com/" + GraphVersion + "/oauth/access_token",
			Scopes:   []string{"pages_show_list", "pages_read_engagement", "pages_manage_posts", "publish_video", "business_management"},
			ScopeSep: ",", LongLived: true,
		},
		Env:     "FACEBOOK",
		Presets: []string{"facebook-feed", "facebook-reel"},
		NewFunc: func(baseURL string, hc *http.Client) publish.Publisher { return New(baseURL, hc) },
	}
}

// icon is a simplified, recognisable mark, not the brand's artwork.
const icon = `<svg viewBox="0 0 24 24"><circle cx="12" cy="12" r="10.5" fill="#1877f2"/>` +
	`<path d="M13.3 22.4v-7.3h2.4l.4-2.9h-2.8v-1.8c0-.8.3-1.4 1.4-1.4h1.5V6.4a19 19 0 0 0-2.2-.1c-2.2 0-3.6 1.3-3.6 3.7v2.2H8v2.9h2.4v7.3z" fill="#fff"/></svg>`
