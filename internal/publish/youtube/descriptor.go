package youtube

import (
	"net/http"

	"outpost/internal/publish"
)

// ID is the platform's id.
const ID = "youtube"

// Text limits (platforms.md §1, §3): the description in UTF-8 bytes, the
// stricter reading of the disputed unit.
const (
	MaxTitle       = 100
	MaxDescription = 5000
	MaxTags        = 500
)

// defaultPrivacy is what a post without a privacy gets.
const defaultPrivacy = "public"

// Descriptor returns YouTube's description of itself.
func Descriptor() publish.Descriptor {
	g := "https://www.googleapis.com/auth/"
	return publish.Descriptor{
		ID:   ID,
		Name: "YouTube",
		Icon: icon,
		Fields: []publish.Field{
			{Name: publish.FieldTitle, Label: "Title", Kind: publish.KindText, Required: true, Limit: MaxTitle, Count: publish.CountChars, Forbid: "<>"},
			{Name: publish.FieldDescription, Label: "Description", Kind: publish.KindTextarea, Limit: MaxDescription, Count: publish.CountBytes, Forbid: "<>"},
			{Name: publish.FieldTags, Label: "Tags", Kind: publish.KindTags, Limit: MaxTags, Count: publish.CountTags},
			{Name: publish.FieldPrivacy, Label: "Privacy", Kind: publish.KindSelect, Default: defaultPrivacy, Choices: []publish.Choice{
				{Value: "public", Label: "Public"}, {Value: "unlisted", Label: "Unlisted"}, {Value: "private", Label: "Private"},
			}, Help: "A scheduled video stays private until its time, then turns public."},
		},
		// publishAt on a private video, any time ahead (platforms.md §3.8).
		Features: publish.Features{NativeSchedule: true, Thumbnail: true, Captions: true},
		OAuth: publish.OAuth{
			AuthURL: "https://accounts.google.com/o/oauth2/v2/auth", TokenURL: "https://oauth2.googleapis.com/token",
			// youtube.upload covers videos.insert and thumbnails.set;
			// captions.insert and channels.list need youtube.force-ssl.
			Scopes: []string{g + "youtube.upload", g + "youtube.force-ssl"}, ScopeSep: " ", PKCE: true,
			AuthParams: map[string]string{"access_type": "offline", "prompt": "consent", "include_granted_scopes": "true"},
		},
		Env:     "YOUTUBE",
		Presets: []string{"youtube-1080p", "youtube-4k", "youtube-shorts"},
		NewFunc: func(baseURL string, hc *http.Client) publish.Publisher { return New(baseURL, hc) },
	}
}

// icon is a simplified, recognisable mark, not the brand's artwork.
const icon = `<svg viewBox="0 0 24 24"><rect x="1.5" y="4.5" width="21" height="15" rx="4.5" fill="#e00"/><path d="M10 8.6v6.8l5.8-3.4z" fill="#fff"/></svg>`
