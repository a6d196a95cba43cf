package web

import (
	"bytes"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"outpost/internal/connect"
	"outpost/internal/outpost"
	"outpost/internal/service"
	"outpost/internal/store"
)

// TestServer_webhookPrivateNets, on both engines: an endpoint on
// http://localhost is refused at creation like 127.0.0.1, with a remedy
// naming OUTPOST_WEBHOOK_ALLOW_NETS; with its network allowed it is
// created, and its signing secret is stored sealed, not plain. Endpoints
// made before sealing are sealed when a node starts.
func TestServer_webhookPrivateNets(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, eng store.Engine) {
		var sealer *connect.Service
		withConnect := func(allow ...netip.Prefix) envOption {
			return func(e *env, _ *Deps, so *service.Options) {
				var err error
				sealer, err = connect.New(connect.Options{Store: e.store, Key: bytes.Repeat([]byte{7}, 32)})
				if err != nil {
					t.Fatal(err)
				}
				so.Connect, so.WebhookAllowNets = sealer, allow
			}
		}
		e := newEnvOn(t, eng, false, nil, withConnect())
		_, port, _ := net.SplitHostPort(e.ts.Listener.Addr().String())
		for _, u := range []string{"http://localhost:" + port + "/hook", "http://127.0.0.1:" + port + "/hook"} {
			r := e.post("/api/v1/webhooks", map[string]any{"url": u})
			wantError(t, r, http.StatusBadRequest, "url_not_allowed")
			if !strings.Contains(string(r.body), "OUTPOST_WEBHOOK_ALLOW_NETS") {
				t.Errorf("%s: %s, want the remedy to name OUTPOST_WEBHOOK_ALLOW_NETS", u, r.body)
			}
		}

		e = newEnvOn(t, eng, false, nil, withConnect(netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")))
		r := e.post("/api/v1/webhooks", map[string]any{"url": "http://localhost:" + port + "/hook"})
		want(t, r, http.StatusCreated)
		var hook outpost.Webhook
		r.json(t, &hook)
		ep, err := e.store.GetWebhookEndpoint(t.Context(), hook.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ep.Secret != "" || len(ep.SecretSealed) == 0 || bytes.Contains(ep.SecretSealed, []byte(hook.Secret)) {
			t.Fatalf("stored secret: plain %q, sealed %d bytes; want it sealed only", ep.Secret, len(ep.SecretSealed))
		}
		if got, err := sealer.WebhookSecret(ep); err != nil || got != hook.Secret || !strings.HasPrefix(got, "whsec_") {
			t.Errorf("WebhookSecret = %q, %v; want the one the answer gave", got, err)
		}
		moved := ep
		moved.ID = "whk_other"
		if _, err := sealer.WebhookSecret(moved); err == nil {
			t.Error("a sealed secret opens for another endpoint")
		}

		// An endpoint from before 00014 keeps its secret plain until a
		// node starts and seals it; its signatures do not change.
		old, err := e.store.CreateWebhookEndpoint(t.Context(), store.WebhookEndpoint{WorkspaceID: e.ws.ID,
			URL: "https://hooks.example.com/in", Secret: "whsec_b2xkIHNlY3JldCBmcm9tIGJlZm9yZQ==", Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		for want := 1; want >= 0; want-- { // the second start finds none
			if n, err := sealer.SealWebhookSecrets(t.Context()); err != nil || n != want {
				t.Fatalf("SealWebhookSecrets = %d, %v; want %d", n, err, want)
			}
		}
		old2, err := e.store.GetWebhookEndpoint(t.Context(), old.ID)
		if err != nil || old2.Secret != "" || len(old2.SecretSealed) == 0 {
			t.Fatalf("after sealing at start: %+v, %v", old2, err)
		}
		if got, err := sealer.WebhookSecret(old2); err != nil || got != old.Secret {
			t.Errorf("sealed old secret opens to %q, %v; want %q", got, err, old.Secret)
		}
	})
}
