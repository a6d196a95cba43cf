// Package platforms is the registry of the publishing platforms: the one
// place that imports every platform package. Config, OAuth, the sandbox,
// connections, the API and the UI list platforms and read their facts from
// here.
//
// Adding a platform is its package under internal/publish (a client and
// its Descriptor) plus one line in All.
package platforms

import (
	"outpost/internal/publish"
	"outpost/internal/publish/facebook"
	"outpost/internal/publish/instagram"
	"outpost/internal/publish/linkedin"
	"outpost/internal/publish/tiktok"
	"outpost/internal/publish/youtube"
)

// All returns every platform's descriptor, in display order. The result
// is the caller's to keep or change.
func All() []publish.Descriptor {
	return []publish.Descriptor{
		youtube.Descriptor(),
		facebook.Descriptor(),
		instagram.Descriptor(),
		linkedin.Descriptor(),
		tiktok.Descriptor(),
	}
}

// Lookup returns the descriptor of the platform id.
func Lookup(id string) (publish.Descriptor, bool) {
	for _, d := range All() {
		if d.ID == id {
			return d, true
		}
	}
	return publish.Descriptor{}, false
}

// IDs returns the platforms' ids, in display order.
func IDs() []string {
	all := All()
	ids := make([]string, len(all))
	for i, d := range all {
		ids[i] = d.ID
	}
	return ids
}

// Name returns the display name of the platform id ("YouTube"), or the id
// itself for a platform this build does not know.
func Name(id string) string {
	if d, ok := Lookup(id); ok {
		return d.Name
	}
	return id
}
