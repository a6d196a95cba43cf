package authz

import (
	"flag"
	"os"
	"strings"
	"testing"

	"outpost/internal/errcode"
)

var update = flag.Bool("update", false, "rewrite the README's roles table from the rules")

func TestRoleAllows(t *testing.T) {
	t.Parallel()
	// Each role's allowed actions, spelled out: a change to the rules must
	// change this table too.
	allowed := map[Role][]Action{
		Owner:  Actions,
		Admin:  {View, Export, Publish, ManagePresets, ManageConnections, ManageWebhooks, ManageMembers, ManageKeys, Delete, ViewAudit, ExportData},
		Member: {View, Export, Publish, ManagePresets},
		Viewer: {View},
		"":     nil,
		"root": nil,
	}
	for role, want := range allowed {
		for _, a := range Actions {
			wantOK := false
			for _, w := range want {
				wantOK = wantOK || w == a
			}
			if got := RoleAllows(role, a); got != wantOK {
				t.Errorf("RoleAllows(%q, %s) = %v, want %v", role, a, got, wantOK)
			}
		}
	}
	if RoleAllows(Owner, "fly") {
		t.Error("an unknown action is allowed")
	}
}

func TestScopesAllow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		scopes []Scope
		allow  []Action
	}{
		{[]Scope{ScopeRead}, []Action{View}},
		{[]Scope{ScopeExport}, []Action{View, Export, ManagePresets}},
		{[]Scope{ScopePublish}, []Action{View, Publish}},
		{[]Scope{ScopeRead, ScopePublish}, []Action{View, Publish}},
		{[]Scope{ScopeAdmin}, []Action{View, Export, Publish, ManagePresets, ManageConnections, ManageWebhooks,
			ManageMembers, ManageKeys, Delete, ViewAudit, ExportData}},
		{Scopes, []Action{View, Export, Publish, ManagePresets, ManageConnections, ManageWebhooks,
			ManageMembers, ManageKeys, Delete, ViewAudit, ExportData}},
		{nil, nil},
		{[]Scope{"write"}, nil},
	}
	for _, tc := range tests {
		for _, a := range Actions {
			want := false
			for _, w := range tc.allow {
				want = want || w == a
			}
			if got := ScopesAllow(tc.scopes, a); got != want {
				t.Errorf("ScopesAllow(%v, %s) = %v, want %v", tc.scopes, a, got, want)
			}
		}
	}
}

func TestPrincipal_Check(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p       Principal
		a       Action
		wantErr string // substring; "" for allowed
	}{
		{MemberPrincipal(Member), Export, ""},
		{MemberPrincipal(Viewer), Export, "your role (viewer) does not allow export: it needs owner, admin, member"},
		{MemberPrincipal(Admin), ManageWorkspace, "it needs owner"},
		{MemberPrincipal(""), View, "not a member of this workspace"},
		{KeyPrincipal([]Scope{ScopeRead}), View, ""},
		{KeyPrincipal([]Scope{ScopeRead}), Publish, "lacks the publish scope"},
		{KeyPrincipal([]Scope{ScopeExport}), ManageKeys, "lacks the admin scope"},
		{KeyPrincipal(Scopes), ManageWorkspace, "not possible with an API key"},
		// A key is judged by its scopes, whatever Role says.
		{Principal{Role: Owner, Key: true}, View, "lacks the read scope"},
	}
	for _, tc := range tests {
		err := tc.p.Check(tc.a)
		if tc.wantErr == "" {
			if err != nil {
				t.Errorf("%+v.Check(%s) = %v, want nil", tc.p, tc.a, err)
			}
			continue
		}
		if errcode.Of(err) != errcode.Forbidden || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%+v.Check(%s) = %v, want forbidden with %q", tc.p, tc.a, err, tc.wantErr)
		}
	}
}

func TestCheckRoleChange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		actor, from, to Role
		want            errcode.Code // "" for allowed
	}{
		{Owner, Member, Owner, ""},
		{Owner, Owner, Viewer, ""},
		{Owner, "", Admin, ""},
		{Admin, Member, Admin, ""},
		{Admin, "", Viewer, ""},
		{Admin, Viewer, Member, ""},
		{Admin, Member, Owner, errcode.Forbidden},
		{Admin, Owner, Member, errcode.Forbidden},
		{Admin, "", Owner, errcode.Forbidden},
		{Member, Viewer, Member, errcode.Forbidden},
		{Viewer, "", Viewer, errcode.Forbidden},
		{Owner, Member, "boss", errcode.InvalidOption},
	}
	for _, tc := range tests {
		if got := errcode.Of(CheckRoleChange(tc.actor, tc.from, tc.to)); got != tc.want {
			t.Errorf("CheckRoleChange(%q, %q, %q) = %q, want %q", tc.actor, tc.from, tc.to, got, tc.want)
		}
	}
}

func TestParseScopes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string // joined; "ERR" for an error
	}{
		{"read", "read"},
		{"admin, read,READ publish", "read publish admin"},
		{"export,publish", "export publish"},
		{"", "ERR"},
		{" , ", "ERR"},
		{"read,write", "ERR"},
	}
	for _, tc := range tests {
		got, err := ParseScopes(tc.in)
		s := joinScopes(got)
		s = strings.ReplaceAll(s, ", ", " ")
		if err != nil {
			s = "ERR"
			if errcode.Of(err) != errcode.InvalidOption {
				t.Errorf("ParseScopes(%q) code = %s", tc.in, errcode.Of(err))
			}
		}
		if s != tc.want {
			t.Errorf("ParseScopes(%q) = %q (%v), want %q", tc.in, s, err, tc.want)
		}
	}
}

func TestParseRole(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Role{"Owner": Owner, " viewer ": Viewer, "admin": Admin, "member": Member} {
		if got, err := ParseRole(in); err != nil || got != want {
			t.Errorf("ParseRole(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseRole("root"); errcode.Of(err) != errcode.InvalidOption {
		t.Errorf("ParseRole(root) = %v", err)
	}
}

// The README's roles table is generated from the rules.
const (
	readmePath = "../../README.md"
	tableStart = "<!-- roles table: generated by `go test ./internal/authz -update` -->\n"
	tableEnd   = "<!-- end of roles table -->\n"
)

func TestTable_README(t *testing.T) {
	b, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	before, rest, ok1 := strings.Cut(readme, tableStart)
	_, after, ok2 := strings.Cut(rest, tableEnd)
	if !ok1 || !ok2 {
		t.Fatalf("README.md has no roles table between %q and %q", tableStart, tableEnd)
	}
	want := before + tableStart + Table() + tableEnd + after
	if *update {
		if err := os.WriteFile(readmePath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if readme != want {
		t.Error("README.md's roles table is out of step with internal/authz: run go test ./internal/authz -update")
	}
}
