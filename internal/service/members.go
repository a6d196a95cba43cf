package service

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strings"
	"time"

	"outpost/internal/authz"
	"outpost/internal/errcode"
	"outpost/internal/jobs"
	"outpost/internal/notify"
	"outpost/internal/outpost"
	"outpost/internal/store"
)

// Members are a workspace's people: members, their roles, and invites.
type Members struct {
	store     *store.Store
	queue     *jobs.Queue
	accounts  *Accounts
	publicURL string
	logger    *slog.Logger
	now       func() time.Time
}

var _ outpost.Members = (*Members)(nil)

// actorRole is the role a caller acts with when changing roles: a signed-in
// member's own, and for an API key with the admin scope, admin (a key may
// never make owners).
func actorRole(c outpost.Caller) outpost.Role {
	if c.KeyID != "" {
		if c.Principal().Allows(authz.ManageMembers) {
			return authz.Admin
		}
		return ""
	}
	return c.Role
}

func memberView(m store.Member) outpost.Member {
	return outpost.Member{UserID: m.UserID, Email: m.Email, Name: m.Name, Role: m.Role, JoinedAt: m.CreatedAt}
}

// memberError gives the membership rules' failures their codes.
func memberError(err error, userID string) error {
	switch {
	case errors.Is(err, store.ErrLastOwner):
		return &errcode.Error{Code: errcode.Conflict, Message: "a workspace keeps at least one owner",
			Remedy: "Make another member an owner first."}
	case errors.Is(err, store.ErrNotFound):
		return errcode.New(errcode.NotFound, "member %s not found in this workspace", userID)
	}
	return err
}

// List returns the workspace's members, and its pending invites to those
// who may manage members.
func (s *Members) List(ctx context.Context, c outpost.Caller) (outpost.MemberList, error) {
	if err := c.Check(authz.View); err != nil {
		return outpost.MemberList{}, err
	}
	ms, err := s.store.ListMembers(ctx, c.WorkspaceID)
	if err != nil {
		return outpost.MemberList{}, err
	}
	out := outpost.MemberList{Members: []outpost.Member{}, Invites: []outpost.Invite{}, EmailConfigured: s.queue.EmailConfigured()}
	emails := map[string]string{}
	for _, m := range ms {
		out.Members = append(out.Members, memberView(m))
		emails[m.UserID] = m.Email
	}
	if c.Check(authz.ManageMembers) != nil {
		return out, nil
	}
	is, err := s.store.ListInvites(ctx, c.WorkspaceID, s.now())
	if err != nil {
		return outpost.MemberList{}, err
	}
	for _, i := range is {
		v := inviteView(i)
		v.InvitedBy = s.email(ctx, emails, i.InvitedBy)
		out.Invites = append(out.Invites, v)
	}
	return out, nil
}

// email returns a user's email from known, else the store's ("" when the
// user is gone).
func (s *Members) email(ctx context.Context, known map[string]string, userID string) string {
	if userID == "" {
		return ""
	}
	if e, ok := known[userID]; ok {
		return e
	}
	u, err := s.store.GetUser(ctx, userID)
	if err != nil {
		return ""
	}
	known[userID] = u.Email
	return u.Email
}

func inviteView(i store.Invite) outpost.Invite {
	return outpost.Invite{ID: i.ID, Email: i.Email, Role: i.Role, CreatedAt: i.CreatedAt, ExpiresAt: i.ExpiresAt}
}

// inviteLink is the page that accepts the invite of token.
func (s *Members) inviteLink(token string) string {
	return strings.TrimSuffix(s.publicURL, "/") + "/invite/" + token
}

// Invite makes an invite link to the caller's workspace with a role the
// caller may give, and emails it when asked (refused with
// email_not_configured on a server without SMTP, before anything is made).
func (s *Members) Invite(ctx context.Context, c outpost.Caller, req outpost.InviteRequest) (outpost.Invite, error) {
	if err := c.Check(authz.ManageMembers); err != nil {
		return outpost.Invite{}, err
	}
	role := req.Role
	if role == "" {
		role = authz.Member
	}
	if err := authz.CheckRoleChange(actorRole(c), "", role); err != nil {
		return outpost.Invite{}, err
	}
	email := strings.ToLower(strings.TrimSpace(req.Email))
	if email != "" && (!strings.Contains(email, "@") || len(email) > 254) {
		return outpost.Invite{}, errcode.New(errcode.InvalidOption, "email %q: not an email address", req.Email)
	}
	if req.SendEmail {
		if email == "" {
			return outpost.Invite{}, errcode.New(errcode.InvalidOption, "send_email: give the email address to send the invite to")
		}
		if !s.queue.EmailConfigured() {
			return outpost.Invite{}, notify.ErrNotConfigured
		}
	}
	if email != "" {
		if u, err := s.store.GetUserByEmail(ctx, email); err == nil {
			if _, err := s.store.GetMember(ctx, c.WorkspaceID, u.ID); err == nil {
				return outpost.Invite{}, errcode.New(errcode.Conflict, "%s is already a member of this workspace", email)
			}
		}
	}
	var out outpost.Invite
	err := inTx(ctx, s.store, func(q *store.Queries, tx *sql.Tx) error {
		ws, err := q.GetWorkspace(ctx, c.WorkspaceID)
		if err != nil {
			return err
		}
		inv, token, err := q.CreateInvite(ctx, store.Invite{WorkspaceID: c.WorkspaceID, Email: email, Role: role,
			InvitedBy: c.UserID, CreatedAt: s.now()})
		if err != nil {
			return err
		}
		out = inviteView(inv)
		out.Link, out.InvitedBy = s.inviteLink(token), c.Name
		if err := audit(ctx, q, c, store.AuditInviteCreated, "invite", inv.ID,
			map[string]any{"email": email, "role": role, "emailed": req.SendEmail}); err != nil {
			return err
		}
		if !req.SendEmail {
			return nil
		}
		out.Emailed = true
		return s.queue.InsertEmail(ctx, tx, email, notify.Notice{Kind: notify.Invite, Workspace: ws.Name, Link: out.Link,
			ExpiresAt: inv.ExpiresAt, InvitedBy: inviterName(c), Role: string(role)})
	})
	if err != nil {
		return outpost.Invite{}, err
	}
	return out, nil
}

// inviterName is how an invite email names its sender.
func inviterName(c outpost.Caller) string {
	if c.KeyID != "" {
		return "An administrator"
	}
	return c.Name
}

// RevokeInvite revokes one of the workspace's pending invites.
func (s *Members) RevokeInvite(ctx context.Context, c outpost.Caller, id string) error {
	if err := c.Check(authz.ManageMembers); err != nil {
		return err
	}
	inv, err := inWorkspace(ctx, c.WorkspaceID, "invite", id, s.store.GetInvite, func(i store.Invite) string { return i.WorkspaceID })
	if err != nil {
		return err
	}
	return inTx(ctx, s.store, func(q *store.Queries, tx *sql.Tx) error {
		if err := q.RevokeInvite(ctx, inv.ID, s.now()); err != nil {
			return coded(err, "pending invite", id)
		}
		return audit(ctx, q, c, store.AuditInviteRevoked, "invite", inv.ID, map[string]any{"email": inv.Email, "role": inv.Role})
	})
}

// SetRole changes a member's role: who may give which role is authz's
// rule; the workspace keeps at least one owner.
func (s *Members) SetRole(ctx context.Context, c outpost.Caller, userID string, role outpost.Role) (outpost.Member, error) {
	if err := c.Check(authz.ManageMembers); err != nil {
		return outpost.Member{}, err
	}
	m, err := s.store.GetMember(ctx, c.WorkspaceID, userID)
	if err != nil {
		return outpost.Member{}, memberError(err, userID)
	}
	if err := authz.CheckRoleChange(actorRole(c), m.Role, role); err != nil {
		return outpost.Member{}, err
	}
	var out store.Member
	err = inTx(ctx, s.store, func(q *store.Queries, tx *sql.Tx) error {
		var err error
		if out, err = q.SetMemberRole(ctx, c.WorkspaceID, userID, role); err != nil {
			return memberError(err, userID)
		}
		return audit(ctx, q, c, store.AuditMemberRoleChanged, "user", userID,
			map[string]any{"email": m.Email, "from": m.Role, "to": role})
	})
	if err != nil {
		return outpost.Member{}, err
	}
	return memberView(out), nil
}

// Remove ends a membership. Members may leave by themselves; removing
// someone else needs manage_members, and removing an owner needs an owner.
func (s *Members) Remove(ctx context.Context, c outpost.Caller, userID string) error {
	m, err := s.store.GetMember(ctx, c.WorkspaceID, userID)
	if err != nil {
		if err := c.Check(authz.ManageMembers); err != nil {
			return err
		}
		return memberError(err, userID)
	}
	leaving := c.KeyID == "" && c.UserID == userID
	if !leaving {
		if err := c.Check(authz.ManageMembers); err != nil {
			return err
		}
		if err := authz.CheckRoleChange(actorRole(c), m.Role, m.Role); err != nil {
			return err
		}
	}
	return inTx(ctx, s.store, func(q *store.Queries, tx *sql.Tx) error {
		if err := q.RemoveMember(ctx, c.WorkspaceID, userID); err != nil {
			return memberError(err, userID)
		}
		return audit(ctx, q, c, store.AuditMemberRemoved, "user", userID,
			map[string]any{"email": m.Email, "role": m.Role, "left": leaving})
	})
}

// LookupInvite describes the invite of a link's token.
func (s *Members) LookupInvite(ctx context.Context, token string) (outpost.InviteInfo, error) {
	inv, err := s.store.LookupInvite(ctx, token, s.now())
	if err != nil {
		return outpost.InviteInfo{}, err
	}
	ws, err := s.store.GetWorkspace(ctx, inv.WorkspaceID)
	if err != nil {
		return outpost.InviteInfo{}, err
	}
	out := outpost.InviteInfo{Workspace: ws.Name, Role: inv.Role, Email: inv.Email, ExpiresAt: inv.ExpiresAt,
		InvitedBy: s.email(ctx, map[string]string{}, inv.InvitedBy)}
	if inv.Email != "" {
		if _, err := s.store.GetUserByEmail(ctx, inv.Email); err == nil {
			out.HasAccount = true
		}
	}
	return out, nil
}

// Accept makes the signed-in caller a member of the invite's workspace
// and moves them there.
func (s *Members) Accept(ctx context.Context, c outpost.Caller, token string) (outpost.Member, error) {
	if err := c.User(); err != nil {
		return outpost.Member{}, err
	}
	var out store.Member
	err := inTx(ctx, s.store, func(q *store.Queries, tx *sql.Tx) error {
		var err error
		if out, err = q.AcceptInvite(ctx, token, c.UserID, s.now()); err != nil {
			return err
		}
		c.WorkspaceID, c.Role = out.WorkspaceID, out.Role
		return audit(ctx, q, c, store.AuditMemberJoined, "user", c.UserID, map[string]any{"email": out.Email, "role": out.Role})
	})
	if err != nil {
		return outpost.Member{}, err
	}
	return memberView(out), nil
}

// Join creates an account through an invite: the user, their membership
// and the used invite in one transaction. An invite for an email takes
// only that email; an email with an account already is a conflict (sign
// in, then accept).
func (s *Members) Join(ctx context.Context, token, email, name, password, ip string) (outpost.User, error) {
	email, name = strings.TrimSpace(email), strings.TrimSpace(name)
	inv, err := s.store.LookupInvite(ctx, token, s.now())
	if err != nil {
		return outpost.User{}, err
	}
	if inv.Email != "" && !strings.EqualFold(inv.Email, email) {
		return outpost.User{}, errcode.New(errcode.InviteInvalid, "this invite is meant for another email address")
	}
	if err := checkAccount(email, name, password); err != nil {
		return outpost.User{}, err
	}
	hash, err := s.accounts.hashPassword(password)
	if err != nil {
		return outpost.User{}, err
	}
	var u store.User
	err = inTx(ctx, s.store, func(q *store.Queries, tx *sql.Tx) error {
		if u, err = q.CreateUser(ctx, store.User{WorkspaceID: inv.WorkspaceID, Email: email, Name: name,
			PasswordHash: hash, Role: inv.Role}); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return &errcode.Error{Code: errcode.Conflict, Message: "An account with this email exists already.",
					Remedy: "Sign in, then open the invite link again to accept it."}
			}
			return err
		}
		if _, err := q.AcceptInvite(ctx, token, u.ID, s.now()); err != nil {
			return err
		}
		return audit(ctx, q, outpost.Caller{WorkspaceID: inv.WorkspaceID, UserID: u.ID, Name: u.Email, IP: ip},
			store.AuditMemberJoined, "user", u.ID, map[string]any{"email": u.Email, "role": inv.Role, "new_account": true})
	})
	if err != nil {
		return outpost.User{}, err
	}
	s.logger.InfoContext(ctx, "user joined through an invite", slog.String("user_id", u.ID), slog.String("workspace_id", inv.WorkspaceID))
	return userView(u), nil
}
