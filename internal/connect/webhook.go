package connect

import (
	"context"
	"errors"
	"fmt"

	"outpost/internal/oauth"
	"outpost/internal/store"
)

// Webhook signing secrets are sealed at rest like connection tokens: under
// the newest key, bound to their endpoint's id.

func webhookAAD(endpointID string) []byte { return []byte("webhook_secret\x00" + endpointID) }

// SealWebhookSecret seals the signing secret of endpoint endpointID.
func (s *Service) SealWebhookSecret(endpointID, secret string) ([]byte, error) {
	return oauth.Seal(s.keyring[s.sealID], s.sealID, []byte(secret), webhookAAD(endpointID))
}

// WebhookSecret is ep's signing secret: opened when sealed, else the plain
// one (an endpoint not yet sealed). A nil Service opens nothing.
func (s *Service) WebhookSecret(ep store.WebhookEndpoint) (string, error) {
	if len(ep.SecretSealed) == 0 {
		return ep.Secret, nil
	}
	if s == nil {
		return "", errors.New("the endpoint's secret is sealed and this server has no secret key")
	}
	b, err := oauth.Open(s.keys(), ep.SecretSealed, webhookAAD(ep.ID))
	if err != nil {
		return "", fmt.Errorf("open webhook %s secret: %w", ep.ID, err)
	}
	return string(b), nil
}

// SealWebhookSecrets seals the secrets still stored plain (endpoints made
// before migration 00014), emptying the plain column; each node runs it
// as it starts. It returns how many it sealed.
func (s *Service) SealWebhookSecrets(ctx context.Context) (int, error) {
	eps, err := s.store.ListPlainWebhookSecrets(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ep := range eps {
		sealed, err := s.SealWebhookSecret(ep.ID, ep.Secret)
		if err != nil {
			return n, err
		}
		ok, err := s.store.SealWebhookSecret(ctx, ep.ID, ep.Secret, sealed)
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}
