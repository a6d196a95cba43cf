package ui

import (
	"fmt"
	"net/http"

	"outpost/internal/authz"
)

// anyUser marks a page any signed-in user may open: its service decides
// (leaving a workspace, one's own settings, the instance admin's plans).
const anyUser authz.Action = ""

// pageActions says what each signed-in page and action needs, by the
// pattern it is registered with (internal/authz: the user's role in their
// current workspace). auth checks it before the handler runs and refuses a
// pattern missing here (fail closed), so a new route cannot slip through
// unchecked; TestPageActions checks the table against the routes.
var pageActions = map[string]authz.Action{
	"POST /signout": anyUser,
	"GET /{$}":      anyUser,

	"GET /projects":                           authz.View,
	"POST /projects":                          authz.Export,
	"POST /projects/import":                   authz.Export,
	"GET /projects/{id}/poster":               authz.View,
	"GET /projects/{id}/export-options":       authz.View,
	"POST /projects/{id}/estimate":            authz.Export,
	"POST /projects/{id}/delete":              authz.Delete,
	"POST /exports":                           authz.Export,
	"GET /exports/{id}":                       authz.View,
	"GET /exports/{id}/events":                authz.View,
	"GET /exports/{id}/live":                  authz.View,
	"POST /exports/{id}/cancel":               authz.Export,
	"POST /exports/{id}/retry":                authz.Export,
	"POST /exports/{id}/rerender":             authz.Export,
	"POST /exports/{id}/delete":               authz.Delete,
	"GET /renditions/{id}/download":           authz.View,
	"POST /renditions/{id}/keep":              authz.Export,
	"POST /renditions/{id}/thumbnail":         authz.Export,
	"GET /groups/{id}":                        authz.View,
	"GET /groups/{id}/live":                   authz.View,
	"GET /brand-kits":                         authz.View,
	"POST /brand-kits":                        authz.ManagePresets,
	"POST /brand-kits/{id}":                   authz.ManagePresets,
	"POST /brand-kits/{id}/delete":            authz.ManagePresets,
	"GET /history":                            authz.View,
	"GET /presets":                            authz.View,
	"POST /presets":                           authz.ManagePresets,
	"POST /presets/{id}":                      authz.ManagePresets,
	"POST /presets/{id}/delete":               authz.ManagePresets,
	"POST /share-defaults":                    anyUser, // one's own
	"POST /exports/{id}/publications":         authz.Publish,
	"POST /publications/{id}/cancel":          authz.Publish,
	"POST /publications/{id}/reschedule":      authz.Publish,
	"POST /publications/{id}/retry":           authz.Publish,
	"POST /publications/{id}/edit":            authz.Publish,
	"GET /connections":                        authz.View,
	"POST /connections/{id}/disconnect":       authz.ManageConnections,
	"POST /connections/share-default":         anyUser, // one's own
	"GET /webhooks":                           authz.View,
	"POST /webhooks":                          authz.ManageWebhooks,
	"POST /webhooks/{id}/delete":              authz.ManageWebhooks,
	"POST /webhook-deliveries/{id}/redeliver": authz.ManageWebhooks,

	"GET /settings":                       anyUser,
	"GET /settings/members":               authz.View,
	"POST /settings/invites":              authz.ManageMembers,
	"POST /settings/invites/{id}/revoke":  authz.ManageMembers,
	"POST /settings/members/{id}/role":    authz.ManageMembers,
	"POST /settings/members/{id}/remove":  anyUser, // a member may leave
	"GET /settings/api-keys":              authz.ManageKeys,
	"POST /settings/api-keys":             authz.ManageKeys,
	"POST /settings/api-keys/{id}/revoke": authz.ManageKeys,
	"POST /settings/api-keys/{id}/rotate": authz.ManageKeys,
	"GET /settings/audit":                 authz.ViewAudit,
	"GET /settings/notifications":         anyUser,
	"POST /settings/notifications":        anyUser,
	"POST /settings/account/delete":       anyUser,
	"GET /settings/workspace":             anyUser,
	"POST /settings/workspace/switch":     anyUser,
	"POST /settings/workspaces":           anyUser, // the instance admin
	"POST /settings/workspaces/{id}/plan": anyUser, // the instance admin
	"POST /settings/workspace/delete":     anyUser, // its owner
	"POST /settings/workspace/rename":     anyUser, // its owner
	"GET /settings/workspace/export":      authz.ExportData,
	"POST /invite/{token}/accept":         anyUser,
}

// authorize checks the signed-in user's role against the route's action.
func (h *Handler) authorize(r *http.Request) error {
	a, ok := pageActions[r.Pattern]
	if !ok {
		return fmt.Errorf("ui: route %q has no entry in pageActions", r.Pattern)
	}
	if a == anyUser {
		return nil
	}
	return h.callerOf(r).Check(a)
}

// can reports whether the request's user may take action a (pages hide
// what the role does not allow; auth refuses it anyway).
func (h *Handler) can(r *http.Request, a authz.Action) bool {
	return h.callerOf(r).Principal().Allows(a)
}
