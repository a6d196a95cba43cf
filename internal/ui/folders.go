package ui

import (
	"context"
	"net/url"
	"strconv"

	"outpost/internal/outpost"
)

// foldersView is the folders sidebar: clients, each with its campaigns,
// with counts of projects (on the projects page) or exports (in
// history), linking to Base filtered by them.
type foldersView struct {
	Folders          []outpost.Folder
	Client, Campaign string
	Base             string
	// exports counts exports rather than projects.
	exports bool
	// keep are the page's other query values, kept by the links.
	keep url.Values
}

func (h *Handler) folders(ctx context.Context, workspaceID, base string, exports bool, q url.Values) (foldersView, error) {
	fs, err := h.svc.Projects.Folders(ctx, workspaceID)
	keep := url.Values{}
	for k, v := range q {
		if k != "client" && k != "campaign" && k != "cursor" && k != "partial" {
			keep[k] = v
		}
	}
	return foldersView{Folders: fs, Client: q.Get("client"), Campaign: q.Get("campaign"), Base: base, exports: exports, keep: keep}, err
}

// Link is the page filtered by client and campaign ("" for any).
func (f foldersView) Link(client, campaign string) string {
	q := url.Values{}
	for k, v := range f.keep {
		q[k] = v
	}
	if client != "" {
		q.Set("client", client)
	}
	if campaign != "" {
		q.Set("campaign", campaign)
	}
	if len(q) == 0 {
		return f.Base
	}
	return f.Base + "?" + q.Encode()
}

// Count is the folder's count of the page's kind.
func (f foldersView) Count(projects, exports int) string {
	if f.exports {
		return strconv.Itoa(exports)
	}
	return strconv.Itoa(projects)
}

// Noun says what the counts count.
func (f foldersView) Noun() string {
	if f.exports {
		return "exports"
	}
	return "projects"
}

// Total is the count of everything.
func (f foldersView) Total() string {
	n := 0
	for _, x := range f.Folders {
		if f.exports {
			n += x.Exports
		} else {
			n += x.Projects
		}
	}
	return strconv.Itoa(n)
}
