// Package authz is the one home of who may do what in a workspace: the
// roles a member holds, the scopes an API key carries, the actions they
// allow, and the rules for changing roles. It is pure (no I/O) and a leaf
// (the store uses its Role and Scope types), so every layer asks it the
// same questions. The README's roles table is generated from it.
package authz

import (
	"fmt"
	"slices"
	"strings"

	"outpost/internal/errcode"
)

// Role is what a member may do in a workspace.
type Role string

// Roles, from most to least powerful.
const (
	Owner  Role = "owner"
	Admin  Role = "admin"
	Member Role = "member"
	Viewer Role = "viewer"
)

// Roles lists every role, most powerful first.
var Roles = []Role{Owner, Admin, Member, Viewer}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// rank orders roles: higher is more powerful; unknown roles rank 0.
func (r Role) rank() int {
	if i := slices.Index(Roles, r); i >= 0 {
		return len(Roles) - i
	}
	return 0
}

// ParseRole returns the role named s (case-insensitive), or an
// invalid_option error.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if !r.Valid() {
		return "", errcode.New(errcode.InvalidOption, "role %q: want one of %s", s, joinRoles(Roles))
	}
	return r, nil
}

// Scope is a permission an API key carries.
type Scope string

// Scopes.
const (
	ScopeRead    Scope = "read"
	ScopeExport  Scope = "export"
	ScopePublish Scope = "publish"
	ScopeAdmin   Scope = "admin"
)

// Scopes lists every scope. A key with all of them (the bootstrap key, the
// first-run key) may do whatever an API key may do.
var Scopes = []Scope{ScopeRead, ScopeExport, ScopePublish, ScopeAdmin}

// ParseScopes parses a comma- or space-separated scope list; it needs at
// least one scope and refuses unknown ones. The result is in Scopes' order,
// without repeats.
func ParseScopes(s string) ([]Scope, error) {
	fields := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == ',' || r == ' ' })
	if len(fields) == 0 {
		return nil, errcode.New(errcode.InvalidOption, "scopes: want at least one of %s", joinScopes(Scopes))
	}
	set := map[Scope]bool{}
	for _, f := range fields {
		sc := Scope(f)
		if !slices.Contains(Scopes, sc) {
			return nil, errcode.New(errcode.InvalidOption, "scope %q: want one of %s", f, joinScopes(Scopes))
		}
		set[sc] = true
	}
	var out []Scope
	for _, sc := range Scopes {
		if set[sc] {
			out = append(out, sc)
		}
	}
	return out, nil
}

// Action is something a principal does in a workspace.
type Action string

// Actions.
const (
	// View reads the workspace: projects, exports, renditions, history,
	// presets, connections, webhooks, members.
	View Action = "view"
	// Export uploads sources and creates, cancels and retries exports.
	Export Action = "export"
	// Publish shares renditions to connected accounts and moves, cancels
	// or retries publications.
	Publish Action = "publish"
	// ManagePresets creates, edits and deletes presets and brand kits.
	ManagePresets Action = "manage_presets"
	// ManageConnections connects and disconnects platform accounts.
	ManageConnections Action = "manage_connections"
	// ManageWebhooks adds, edits and removes webhook endpoints.
	ManageWebhooks Action = "manage_webhooks"
	// ManageMembers invites, removes members and changes their roles.
	ManageMembers Action = "manage_members"
	// ManageKeys creates, revokes and rotates API keys.
	ManageKeys Action = "manage_keys"
	// Delete deletes exports and projects with their files.
	Delete Action = "delete"
	// ViewAudit reads the audit log.
	ViewAudit Action = "view_audit"
	// ExportData downloads the workspace's data export (zip).
	ExportData Action = "export_data"
	// ManageWorkspace renames or deletes the workspace.
	ManageWorkspace Action = "manage_workspace"
)

// Actions lists every action, in the README table's order.
var Actions = []Action{View, Export, Publish, ManagePresets, ManageConnections, ManageWebhooks,
	ManageMembers, ManageKeys, Delete, ViewAudit, ExportData, ManageWorkspace}

// rule says who may take an action: the least powerful role, and the API
// key scope that allows it ("" when no key may).
type rule struct {
	minRole Role
	scope   Scope
	summary string
}

var rules = map[Action]rule{
	View:              {Viewer, ScopeRead, "see projects, exports, history, presets, connections and members"},
	Export:            {Member, ScopeExport, "upload sources; start, cancel and retry exports"},
	Publish:           {Member, ScopePublish, "publish to connected accounts; move, cancel and retry posts"},
	ManagePresets:     {Member, ScopeExport, "create and edit presets and brand kits"},
	ManageConnections: {Admin, ScopeAdmin, "connect and disconnect platform accounts"},
	ManageWebhooks:    {Admin, ScopeAdmin, "add, change and remove webhooks"},
	ManageMembers:     {Admin, ScopeAdmin, "invite and remove members, change roles"},
	ManageKeys:        {Admin, ScopeAdmin, "create, revoke and rotate API keys"},
	Delete:            {Admin, ScopeAdmin, "delete exports and projects with their files"},
	ViewAudit:         {Admin, ScopeAdmin, "read the audit log"},
	ExportData:        {Admin, ScopeAdmin, "download the workspace's data export"},
	ManageWorkspace:   {Owner, "", "rename or delete the workspace"},
}

// RoleAllows reports whether a member with role r may take action a.
func RoleAllows(r Role, a Action) bool {
	ru, ok := rules[a]
	return ok && r.Valid() && r.rank() >= ru.minRole.rank()
}

// ScopesAllow reports whether an API key with scopes may take action a.
// The admin scope allows everything a key may do; the others allow their
// own actions and View.
func ScopesAllow(scopes []Scope, a Action) bool {
	ru, ok := rules[a]
	if !ok || ru.scope == "" {
		return false
	}
	for _, sc := range scopes {
		if sc == ScopeAdmin || sc == ru.scope || (a == View && slices.Contains(Scopes, sc)) {
			return true
		}
	}
	return false
}

// ScopeFor returns the scope an API key needs for action a ("" when no key
// may take it).
func ScopeFor(a Action) Scope { return rules[a].scope }

// Principal is who makes a request: a signed-in member (Role) or an API key
// (Scopes, with Key set).
type Principal struct {
	Role   Role
	Scopes []Scope
	Key    bool
}

// MemberPrincipal is a signed-in member with role r.
func MemberPrincipal(r Role) Principal { return Principal{Role: r} }

// KeyPrincipal is an API key with scopes.
func KeyPrincipal(scopes []Scope) Principal { return Principal{Scopes: scopes, Key: true} }

// Allows reports whether p may take action a.
func (p Principal) Allows(a Action) bool {
	if p.Key {
		return ScopesAllow(p.Scopes, a)
	}
	return RoleAllows(p.Role, a)
}

// Check returns nil when p may take action a, else a forbidden error that
// names what is missing.
func (p Principal) Check(a Action) error {
	if p.Allows(a) {
		return nil
	}
	if p.Key {
		if sc := ScopeFor(a); sc != "" {
			return errcode.New(errcode.Forbidden, "this API key lacks the %s scope, which %s needs", sc, a)
		}
		return errcode.New(errcode.Forbidden, "%s is not possible with an API key: sign in as a workspace %s", a, rules[a].minRole)
	}
	if !p.Role.Valid() {
		return errcode.New(errcode.Forbidden, "you are not a member of this workspace")
	}
	return errcode.New(errcode.Forbidden, "your role (%s) does not allow %s: it needs %s",
		p.Role, a, joinRoles(RolesAllowing(a)))
}

// RolesAllowing lists the roles that may take action a, most powerful first.
func RolesAllowing(a Action) []Role {
	var out []Role
	for _, r := range Roles {
		if RoleAllows(r, a) {
			out = append(out, r)
		}
	}
	return out
}

// CheckRoleChange returns nil when a member with role actor may give role
// to a member who has role from now ("" for someone who is not a member yet:
// an invite). Owners may give any role; admins may give admin, member and
// viewer to anyone but an owner; others may change nothing. Keeping at
// least one owner per workspace is the store's rule (it needs the count).
func CheckRoleChange(actor, from, to Role) error {
	if err := MemberPrincipal(actor).Check(ManageMembers); err != nil {
		return err
	}
	if !to.Valid() {
		return errcode.New(errcode.InvalidOption, "role %q: want one of %s", to, joinRoles(Roles))
	}
	if actor == Owner {
		return nil
	}
	if from == Owner || to == Owner {
		return errcode.New(errcode.Forbidden, "only an owner may make someone an owner or change an owner's role")
	}
	return nil
}

func joinRoles(rs []Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

func joinScopes(ss []Scope) string {
	s := make([]string, len(ss))
	for i, sc := range ss {
		s[i] = string(sc)
	}
	return strings.Join(s, ", ")
}

// Table returns the README's roles table (Markdown): one row per action,
// a column per role and the API key scope that allows it.
func Table() string {
	var b strings.Builder
	b.WriteString("| action | what it covers |")
	for _, r := range Roles {
		fmt.Fprintf(&b, " %s |", r)
	}
	b.WriteString(" API key scope |\n|---|---|")
	for range Roles {
		b.WriteString(":-:|")
	}
	b.WriteString("---|\n")
	for _, a := range Actions {
		fmt.Fprintf(&b, "| `%s` | %s |", a, rules[a].summary)
		for _, r := range Roles {
			if RoleAllows(r, a) {
				b.WriteString(" ✓ |")
			} else {
				b.WriteString(" — |")
			}
		}
		switch sc := rules[a].scope; {
		case a == View:
			b.WriteString(" any (`read` is enough) |\n")
		case sc == "":
			b.WriteString(" none (sign in) |\n")
		case sc == ScopeAdmin:
			b.WriteString(" `admin` |\n")
		default:
			fmt.Fprintf(&b, " `%s` or `admin` |\n", sc)
		}
	}
	return b.String()
}
