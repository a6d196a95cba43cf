package web

import (
	"fmt"

	"outpost/internal/authz"
)

// anyCaller marks a route any authenticated caller may call: its service
// decides (a member leaving, a user's own settings, the instance admin's
// plans and workspaces).
const anyCaller authz.Action = ""

// routeActions says what each authenticated route needs (internal/authz:
// a role for a signed-in user, a scope for an API key). wrap checks it
// before the handler runs, and refuses a route missing here (fail closed);
// TestRouteActions keeps it and the route table in step.
var routeActions = map[string]authz.Action{
	"POST /api/v1/projects":            authz.Export,
	"GET /api/v1/projects":             authz.View,
	"GET /api/v1/projects/{id}":        authz.View,
	"DELETE /api/v1/projects/{id}":     authz.Delete,
	"GET /api/v1/presets":              authz.View,
	"POST /api/v1/presets":             authz.ManagePresets,
	"GET /api/v1/presets/{id}":         authz.View,
	"PATCH /api/v1/presets/{id}":       authz.ManagePresets,
	"DELETE /api/v1/presets/{id}":      authz.ManagePresets,
	"POST /api/v1/exports":             authz.Export,
	"POST /api/v1/exports/batch":       authz.Export,
	"POST /api/v1/estimate":            authz.Export,
	"POST /api/v1/previews":            authz.Export,
	"GET /api/v1/exports":              authz.View,
	"GET /api/v1/exports/{id}":         authz.View,
	"DELETE /api/v1/exports/{id}":      authz.Delete,
	"POST /api/v1/exports/{id}/cancel": authz.Export,
	"POST /api/v1/exports/{id}/retry":  authz.Export,
	"GET /api/v1/exports/{id}/events":  authz.View,

	"POST /api/v1/brand-kits":               authz.ManagePresets,
	"GET /api/v1/brand-kits":                authz.View,
	"GET /api/v1/brand-kits/{id}":           authz.View,
	"PATCH /api/v1/brand-kits/{id}":         authz.ManagePresets,
	"PUT /api/v1/brand-kits/{id}/watermark": authz.ManagePresets,
	"DELETE /api/v1/brand-kits/{id}":        authz.ManagePresets,

	"POST /api/v1/exports/{id}/publications": authz.Publish,
	"GET /api/v1/publications/{id}":          authz.View,
	"PATCH /api/v1/publications/{id}":        authz.Publish,
	"POST /api/v1/publications/{id}/cancel":  authz.Publish,
	"POST /api/v1/publications/{id}/retry":   authz.Publish,

	"GET /api/v1/platforms":                         authz.View,
	"GET /api/v1/connections":                       authz.View,
	"GET /api/v1/connections/{id}":                  authz.View,
	"DELETE /api/v1/connections/{id}":               authz.ManageConnections,
	"POST /api/v1/connections/{platform}/authorize": authz.ManageConnections,
	// GET /connect/{platform} authenticates itself (key or session): it
	// checks manage_connections in its handler.

	"POST /api/v1/webhooks":                          authz.ManageWebhooks,
	"GET /api/v1/webhooks":                           authz.View,
	"GET /api/v1/webhooks/{id}":                      authz.View,
	"DELETE /api/v1/webhooks/{id}":                   authz.ManageWebhooks,
	"GET /api/v1/webhooks/{id}/deliveries":           authz.View,
	"POST /api/v1/webhook-deliveries/{id}/redeliver": authz.ManageWebhooks,

	"GET /api/v1/renditions/{id}":           authz.View,
	"PUT /api/v1/renditions/{id}/thumbnail": authz.Export,
	"POST /api/v1/renditions/{id}/save":     authz.Export,

	"GET /api/v1/stats": authz.View,

	"GET /api/v1/api-keys":                authz.ManageKeys,
	"POST /api/v1/api-keys":               authz.ManageKeys,
	"POST /api/v1/api-keys/{id}/revoke":   authz.ManageKeys,
	"POST /api/v1/api-keys/{id}/rotate":   authz.ManageKeys,
	"GET /api/v1/members":                 authz.View,
	"PATCH /api/v1/members/{id}":          authz.ManageMembers,
	"DELETE /api/v1/members/{id}":         anyCaller, // a member may leave
	"GET /api/v1/invites":                 authz.ManageMembers,
	"POST /api/v1/invites":                authz.ManageMembers,
	"DELETE /api/v1/invites/{id}":         authz.ManageMembers,
	"POST /api/v1/invites/accept":         anyCaller, // a signed-in user, member of nothing yet
	"GET /api/v1/audit":                   authz.ViewAudit,
	"GET /api/v1/workspaces":              anyCaller,
	"POST /api/v1/workspaces":             anyCaller, // the instance admin
	"POST /api/v1/workspaces/{id}/switch": anyCaller,
	"GET /api/v1/workspaces/{id}/plan":    authz.View,
	"PUT /api/v1/workspaces/{id}/plan":    anyCaller, // the instance admin
	"PATCH /api/v1/workspaces/{id}":       anyCaller, // an owner of that workspace
	"DELETE /api/v1/workspaces/{id}":      anyCaller, // an owner of that workspace
	"GET /api/v1/me/notifications":        anyCaller,
	"PATCH /api/v1/me/notifications":      anyCaller,
	"GET /api/v1/me/share-defaults":       anyCaller,
	"PUT /api/v1/me/share-defaults":       anyCaller,
	"DELETE /api/v1/users/{id}":           anyCaller, // oneself, or the instance admin
	"GET /api/v1/export-data":             authz.ExportData,
}

// routeAction returns what a route needs; a route the table lacks is a
// programming error, refused.
func routeAction(pattern string) (authz.Action, error) {
	a, ok := routeActions[pattern]
	if !ok {
		return "", fmt.Errorf("web: route %s has no entry in routeActions", pattern)
	}
	return a, nil
}

// actionDoc describes what a route needs, for the OpenAPI document.
func actionDoc(a authz.Action) string {
	if a == anyCaller {
		return "Any signed-in user or API key of the workspace; the operation checks the rest."
	}
	roles := authz.RolesAllowing(a)
	doc := fmt.Sprintf("Needs `%s`: role %s", a, roles[len(roles)-1])
	if len(roles) > 1 {
		doc += " or above"
	}
	if sc := authz.ScopeFor(a); sc != "" {
		doc += fmt.Sprintf(", or an API key with the `%s` scope", sc)
	} else {
		doc += " (not possible with an API key)"
	}
	return doc + "."
}
