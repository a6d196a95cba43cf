// Package outpost is the application's contract: the domain's vocabulary
// (statuses, requests, the records people and scripts see) and one
// interface per family of use cases — projects, exports, presets,
// publications, connections, webhooks, brand kits, stats and accounts, and
// the team's: members, workspaces, API keys, the audit log, notifications
// and deletions.
//
// The web UI (internal/ui) and the JSON API (internal/web) are adapters over
// these interfaces: they decode a request, call a service and render JSON or
// HTML. internal/service implements them over the store, blob storage and
// the job queue; internal/app wires the two together. This package depends
// on neither, so the adapters do not see the database (as in
// benbjohnson/wtf, whose root package plays this part).
package outpost

// Services are the use cases the interfaces share.
type Services struct {
	Projects     Projects
	Exports      Exports
	Presets      Presets
	Publications Publications
	Connections  Connections
	Webhooks     Webhooks
	BrandKits    BrandKits
	Stats        Stats
	Accounts     Accounts
	Idempotency  Idempotency

	Members       Members
	Workspaces    Workspaces
	APIKeys       APIKeys
	Audit         Audit
	Notifications Notifications
	Deletions     Deletions
}
