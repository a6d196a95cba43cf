package linkedin

import (
	"net/http"

	"outpost/internal/publish"
)

// ID is the platform's id.
const ID = "linkedin"

// visibility is the privacy field, with the post visibility each choice
// sends.
var visibility = publish.Field{Name: publish.FieldPrivacy, Label: "Visibility", Kind: publish.KindSelect, Default: "public",
	Choices: []publish.Choice{
		{Value: "public", Label: "Anyone", Remote: "PUBLIC"},
		{Value: "connections", Label: "Connections only", Remote: "CONNECTIONS"},
	}}

// Descriptor returns LinkedIn's description of itself.
func Descriptor() publish.Descriptor {
	return publish.Descriptor{
		ID:   ID,
		Name: "LinkedIn",
		Icon: icon,
		Fields: []publish.Field{
			{Name: publish.FieldCaption, Label: "Text", Kind: publish.KindTextarea, Limit: MaxCommentary, Count: publish.CountChars},
			{Name: publish.FieldTitle, Label: "Video title", Kind: publish.KindText},
			visibility,
		},
		// No scheduling found (platforms.md §1): the job layer waits.
		Features: publish.Features{},
		OAuth: publish.OAuth{
			AuthURL: "https://www.linkedin.com/oauth/v2/authorization", TokenURL: "https://www.linkedin.com/oauth/v2/accessToken",
			Scopes: []string{"openid", "profile", "w_member_social"}, ScopeSep: " ",
		},
		Env:     "LINKEDIN",
		Presets: []string{"linkedin-landscape", "linkedin-square"},
		NewFunc: func(baseURL string, hc *http.Client) publish.Publisher { return New(baseURL, hc) },
	}
}

// icon is a simplified, recognisable mark, not the brand's artwork.
const icon = `<svg viewBox="0 0 24 24"><rect x="2" y="2" width="20" height="20" rx="3.5" fill="#0a66c2"/>` +
	`<rect x="6" y="10" width="2.6" height="8" fill="#fff"/><circle cx="7.3" cy="7" r="1.6" fill="#fff"/>` +
	`<path d="M10.8 10h2.5v1.2c.5-.8 1.5-1.4 2.8-1.4 2 0 3 1.3 3 3.7V18h-2.6v-4.1c0-1.2-.4-1.9-1.4-1.9s-1.7.7-1.7 1.9V18h-2.6z" fill="#fff"/></svg>`
