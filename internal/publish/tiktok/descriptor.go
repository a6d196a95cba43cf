package tiktok

import (
	"net/http"

	"outpost/internal/publish"
)

// ID is the platform's id.
const ID = "tiktok"

// privacy is the privacy field: TikTok's review rules want the user's own
// choice, so it is required and has no default (platforms.md §7.5).
var privacy = publish.Field{Name: publish.FieldPrivacy, Label: "Who can watch", Kind: publish.KindSelect, Required: true,
	Choices: []publish.Choice{
		{Value: "public", Label: "Everyone", Remote: PublicToEveryone},
		{Value: "friends", Label: "Friends", Remote: MutualFollowFriends},
		{Value: "followers", Label: "Followers", Remote: FollowerOfCreator},
		{Value: "private", Label: "Only me", Remote: SelfOnly},
	}, Help: "TikTok asks you to choose; the account may offer fewer of these."}

// Descriptor returns TikTok's description of itself.
func Descriptor() publish.Descriptor {
	return publish.Descriptor{
		ID:   ID,
		Name: "TikTok",
		Icon: icon,
		Fields: []publish.Field{
			{Name: publish.FieldCaption, Label: "Caption", Kind: publish.KindTextarea, Limit: MaxTitle, Count: publish.CountUTF16},
			privacy,
		},
		// No scheduling (platforms.md §7.5): the job layer waits.
		Features: publish.Features{},
		OAuth: publish.OAuth{
			AuthURL: "https://www.tiktok.com/v2/auth/authorize/", TokenURL: "https://open.tiktokapis.com/v2/oauth/token/",
			Scopes: []string{"user.info.basic", "video.publish", "video.upload"}, ScopeSep: ",", PKCE: true, ClientIDParam: "client_key",
		},
		Env:     "TIKTOK",
		Presets: []string{"tiktok"},
		NewFunc: func(baseURL string, hc *http.Client) publish.Publisher { return New(baseURL, hc) },
	}
}

// icon is a simplified, recognisable mark, not the brand's artwork.
const icon = `<svg viewBox="0 0 24 24"><rect x="1.5" y="1.5" width="21" height="21" rx="5" fill="#111"/>` +
	`<path d="M13.4 5.5h2.3c.2 1.6 1.3 2.8 2.9 3v2.3c-1.1 0-2.1-.3-2.9-.9v4.6a4.1 4.1 0 1 1-4.1-4.1v2.3a1.8 1.8 0 1 0 1.8 1.8z" fill="#25f4ee" transform="translate(-.6 -.4)"/>` +
	`<path d="M13.4 5.5h2.3c.2 1.6 1.3 2.8 2.9 3v2.3c-1.1 0-2.1-.3-2.9-.9v4.6a4.1 4.1 0 1 1-4.1-4.1v2.3a1.8 1.8 0 1 0 1.8 1.8z" fill="#fe2c55" transform="translate(.6 .4)"/>` +
	`<path d="M13.4 5.5h2.3c.2 1.6 1.3 2.8 2.9 3v2.3c-1.1 0-2.1-.3-2.9-.9v4.6a4.1 4.1 0 1 1-4.1-4.1v2.3a1.8 1.8 0 1 0 1.8 1.8z" fill="#fff"/></svg>`
