package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"outpost/internal/errcode"
	"outpost/internal/outpost"
	"outpost/internal/store"
	"outpost/internal/throttle"
)

// Session and key timings.
const (
	sessionTTL         = 30 * 24 * time.Hour
	sessionTouchPeriod = time.Hour
	apiKeyTouchPeriod  = time.Minute
)

// Accounts are who may do what: API keys, users and their sessions.
type Accounts struct {
	store      *store.Store
	throttle   *throttle.Throttle
	bcryptCost int
	logger     *slog.Logger
	now        func() time.Time

	dummyOnce sync.Once
	dummy     []byte
}

var _ outpost.Accounts = (*Accounts)(nil)

func newAccounts(st *store.Store, th *throttle.Throttle, cost int, logger *slog.Logger, now func() time.Time) *Accounts {
	if cost == 0 {
		cost = bcrypt.DefaultCost + 2
	}
	return &Accounts{store: st, throttle: th, bcryptCost: cost, logger: logger, now: now}
}

func userView(u store.User) outpost.User {
	return outpost.User{ID: u.ID, WorkspaceID: u.WorkspaceID, Email: u.Email, Name: u.Name, Role: u.Role}
}

// AuthenticateKey checks a bearer API key and records its use, at most
// once per apiKeyTouchPeriod (a write per request would be a waste). An
// address that sent too many bad keys is refused before the lookup, and
// the bad key that locks it out is audited.
func (s *Accounts) AuthenticateKey(ctx context.Context, token, ip string) (outpost.APIKey, error) {
	d, err := s.throttle.CheckAPIKey(ctx, ip)
	if err != nil {
		return outpost.APIKey{}, err
	}
	if !d.Allowed() {
		return outpost.APIKey{}, d.Err()
	}
	key, err := s.store.LookupAPIKey(ctx, token)
	if errors.Is(err, store.ErrNotFound) {
		locked, ferr := s.throttle.APIKeyFailed(ctx, ip)
		if ferr != nil {
			s.logger.WarnContext(ctx, "record bad api key", slog.Any("error", ferr))
		}
		if locked {
			auditAfter(ctx, s.store, s.logger, outpost.Caller{IP: ip}, store.AuditAPIKeyGuessLocked, "", "",
				map[string]any{"limit": s.throttle.Policy().APIKeyPerIP.Limit, "per_seconds": s.throttle.Policy().APIKeyPerIP.Per.Seconds()})
		}
		return outpost.APIKey{}, errcode.New(errcode.Unauthorized, "the API key is not valid or has been revoked")
	}
	if err != nil {
		return outpost.APIKey{}, err
	}
	now := s.now()
	if key.LastUsedAt == nil || now.Sub(*key.LastUsedAt) >= apiKeyTouchPeriod {
		if err := s.store.TouchAPIKey(ctx, key.ID, now); err != nil {
			s.logger.WarnContext(ctx, "touch api key", slog.String("api_key_id", key.ID), slog.Any("error", err))
		}
	}
	return outpost.APIKey{ID: key.ID, WorkspaceID: key.WorkspaceID, Prefix: key.Prefix, Scopes: key.Scopes}, nil
}

// errSignIn is a wrong email or password: the two look the same.
var errSignIn = &errcode.Error{Code: errcode.Unauthorized, Message: "Wrong email or password.", Remedy: "Check both and try again."}

// SignIn checks an email and password from ip. The throttle decides
// first, before any bcrypt work: an address with too many failures is
// locked out, and an account with many failures is slowed for addresses
// that failed themselves (never for a clean one, so the owner gets in
// during someone else's guessing). An unknown email costs a bcrypt
// comparison too, so that timing tells nothing. Successes and the failure
// that locks an address out go to the audit log.
func (s *Accounts) SignIn(ctx context.Context, email, password, ip string) (outpost.User, error) {
	email = strings.TrimSpace(email)
	d, err := s.throttle.CheckSignIn(ctx, ip, email)
	if err != nil {
		return outpost.User{}, err
	}
	if !d.Allowed() {
		return outpost.User{}, d.Err()
	}
	u, err := s.store.GetUserByEmail(ctx, email)
	hash := s.dummyHash()
	if err == nil {
		hash = []byte(u.PasswordHash)
	} else if !errors.Is(err, store.ErrNotFound) {
		return outpost.User{}, err
	}
	perr := bcrypt.CompareHashAndPassword(hash, []byte(password))
	if err != nil || perr != nil {
		locked, ferr := s.throttle.SignInFailed(ctx, ip, email)
		if ferr != nil {
			s.logger.WarnContext(ctx, "record failed sign-in", slog.Any("error", ferr))
		}
		if locked {
			p := s.throttle.Policy().SignInPerIP
			auditAfter(ctx, s.store, s.logger, outpost.Caller{IP: ip}, store.AuditSignInLocked, "", "",
				map[string]any{"email": strings.ToLower(email), "limit": p.Limit, "per_seconds": p.Per.Seconds()})
		}
		return outpost.User{}, errSignIn
	}
	if err := s.throttle.SignInSucceeded(ctx, ip, email); err != nil {
		s.logger.WarnContext(ctx, "clear sign-in failures", slog.Any("error", err))
	}
	v := userView(u)
	auditAfter(ctx, s.store, s.logger, outpost.Caller{WorkspaceID: u.WorkspaceID, UserID: u.ID, Name: u.Email, IP: ip},
		store.AuditSignIn, "user", u.ID, nil)
	return v, nil
}

// dummyHash returns a bcrypt hash of a random password, at the cost real
// hashes have, compared against when the email is unknown.
func (s *Accounts) dummyHash() []byte {
	s.dummyOnce.Do(func() {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		s.dummy, _ = bcrypt.GenerateFromPassword([]byte(hex.EncodeToString(b)), s.bcryptCost)
	})
	return s.dummy
}

// StartSession signs a user in for sessionTTL.
func (s *Accounts) StartSession(ctx context.Context, userID string) (string, time.Time, error) {
	exp := s.now().Add(sessionTTL)
	_, token, err := s.store.CreateSession(ctx, userID, exp)
	return token, exp, err
}

// Session returns the session of a cookie's token (sliding expiry: used
// sessions are renewed).
func (s *Accounts) Session(ctx context.Context, token string) (outpost.Session, error) {
	none := errcode.New(errcode.Unauthorized, "not signed in")
	if token == "" || len(token) > 200 {
		return outpost.Session{}, none
	}
	now := s.now()
	ses, err := s.store.LookupSession(ctx, token, now)
	if errors.Is(err, store.ErrNotFound) {
		return outpost.Session{}, none
	}
	if err != nil {
		return outpost.Session{}, err
	}
	u, err := s.store.GetUser(ctx, ses.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return outpost.Session{}, none
	}
	if err != nil {
		return outpost.Session{}, err
	}
	if now.Sub(ses.LastSeenAt) > sessionTouchPeriod {
		// A failure only shortens the session.
		if err := s.store.TouchSession(ctx, ses.ID, now, now.Add(sessionTTL)); err != nil {
			s.logger.WarnContext(ctx, "touch session", "error", err)
		}
	}
	return outpost.Session{ID: ses.ID, User: userView(u)}, nil
}

// EndSession signs a session out on the server.
func (s *Accounts) EndSession(ctx context.Context, sessionID string) error {
	return s.store.DeleteSession(ctx, sessionID)
}

// HasUsers reports whether the default workspace has a user.
func (s *Accounts) HasUsers(ctx context.Context) (bool, error) {
	ws, err := s.store.DefaultWorkspace(ctx)
	if err != nil {
		return false, err
	}
	users, err := s.store.ListUsers(ctx, ws.ID)
	return len(users) > 0, err
}

// CreateOwner makes the first user, the owner of the default workspace.
func (s *Accounts) CreateOwner(ctx context.Context, email, name, password string) (outpost.User, error) {
	email, name = strings.TrimSpace(email), strings.TrimSpace(name)
	if err := checkAccount(email, name, password); err != nil {
		return outpost.User{}, err
	}
	ws, err := s.store.DefaultWorkspace(ctx)
	if err != nil {
		return outpost.User{}, err
	}
	if users, err := s.store.ListUsers(ctx, ws.ID); err != nil {
		return outpost.User{}, err
	} else if len(users) > 0 {
		return outpost.User{}, &errcode.Error{Code: errcode.Conflict, Message: "The admin account already exists.", Remedy: "Sign in instead."}
	}
	hash, err := s.hashPassword(password)
	if err != nil {
		return outpost.User{}, err
	}
	u, err := s.store.CreateUser(ctx, store.User{WorkspaceID: ws.ID, Email: email, Name: name,
		PasswordHash: hash, Role: store.RoleOwner})
	if errors.Is(err, store.ErrConflict) {
		return outpost.User{}, &errcode.Error{Code: errcode.Conflict, Message: "The admin account already exists.", Remedy: "Sign in instead."}
	}
	if err != nil {
		return outpost.User{}, err
	}
	return userView(u), nil
}

// checkAccount checks a new account's email, name and password.
func checkAccount(email, name, password string) error {
	switch {
	case !strings.Contains(email, "@") || len(email) > 254:
		return &errcode.Error{Code: errcode.InvalidOption, Message: "That email address does not look right.",
			Remedy: "Enter the address you will sign in with."}
	case utf8.RuneCountInString(password) < outpost.MinPasswordLen:
		return &errcode.Error{Code: errcode.InvalidOption, Message: "The password is too short.",
			Remedy: "Use at least 10 characters; a few words make a good one."}
	case len(password) > 72:
		return &errcode.Error{Code: errcode.InvalidOption, Message: "The password is too long.", Remedy: "Use at most 72 bytes."}
	case utf8.RuneCountInString(name) > outpost.MaxLabelLen:
		return &errcode.Error{Code: errcode.InvalidOption, Message: "The name is too long.", Remedy: "Use at most 200 characters."}
	}
	return nil
}

// hashPassword returns the bcrypt hash of a password at the accounts' cost.
func (s *Accounts) hashPassword(password string) (string, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.bcryptCost)
	return string(hash), err
}

// Idempotency keeps the responses of requests made with an
// Idempotency-Key.
type Idempotency struct {
	store *store.Store
}

var _ outpost.Idempotency = (*Idempotency)(nil)

// Get returns the workspace's record of key.
func (s *Idempotency) Get(ctx context.Context, workspaceID, key string) (outpost.IdempotencyRecord, error) {
	r, err := s.store.GetIdempotencyKey(ctx, workspaceID, key)
	return r, coded(err, "idempotency key", "")
}

// Put stores a record; the same key stored meanwhile is a conflict.
func (s *Idempotency) Put(ctx context.Context, r outpost.IdempotencyRecord) error {
	return s.store.PutIdempotencyKey(ctx, r)
}
