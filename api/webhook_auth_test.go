package api_test

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/webhook"
)

// authCredentials are the credentials of authBodies, found nowhere else in the test.
var authCredentials = []string{"pw-91c3e7", "tok-5be02d", "cs-0d4f18a2"}

// authBodies are an auth object of each type with a credential, and how reads show it.
var authBodies = []struct {
	typ        string
	auth, read map[string]any
}{
	{"basic",
		map[string]any{"type": "basic", "username": "mailer", "password": "pw-91c3e7"},
		map[string]any{"type": "basic", "username": "mailer", "password": "********"}},
	{"bearer",
		map[string]any{"type": "bearer", "token": "tok-5be02d"},
		map[string]any{"type": "bearer", "token": "********"}},
	{"oauth2",
		map[string]any{"type": "oauth2", "tokenUrl": "https://auth.example.com/token", "clientId": "hookd",
			"clientSecret": "cs-0d4f18a2", "scopes": []any{"devices:write", "events"}},
		map[string]any{"type": "oauth2", "tokenUrl": "https://auth.example.com/token", "clientId": "hookd",
			"clientSecret": "********", "scopes": []any{"devices:write", "events"}}},
}

// noCredential fails if body holds any of authCredentials.
func noCredential(t *testing.T, who, body string) {
	t.Helper()
	for _, c := range authCredentials {
		if strings.Contains(body, c) {
			t.Errorf("%s shows credential %q: %s", who, c, body)
		}
	}
}

// TestAuthCredentialsAreNeverRead: no API answer that shows a webhook (create, get, list,
// patch), for admins and viewers alike, holds a credential of its auth, and no log line
// does; reads show the auth with its credential masked, and the store keeps it.
func TestAuthCredentialsAreNeverRead(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createEventType(e.admin, "device.created", nil)
	for _, tt := range authBodies {
		t.Run(tt.typ, func(t *testing.T) {
			body := webhookBody("device.created")
			body["name"] = "auth " + tt.typ
			body["auth"] = tt.auth
			rec := e.do("POST", "/v1/webhooks", e.admin, body)
			if rec.Code != http.StatusCreated {
				t.Fatalf("create: %d %s", rec.Code, rec.Body)
			}
			noCredential(t, "create", rec.Body.String())
			created := decodeJSON(t, rec)
			if !reflect.DeepEqual(created["auth"], tt.read) {
				t.Errorf("create shows auth %v, want %v", created["auth"], tt.read)
			}
			id := str(created["id"])
			for role, key := range map[string]string{"admin": e.admin, "viewer": e.viewer} {
				rec := e.do("GET", "/v1/webhooks/"+id, key, nil)
				noCredential(t, role+" get", rec.Body.String())
				read := decodeJSON(t, rec)
				conformsValue(t, "Webhook", read)
				if got := read["auth"]; !reflect.DeepEqual(got, tt.read) {
					t.Errorf("%s get shows auth %v, want %v", role, got, tt.read)
				}
				noCredential(t, role+" list", e.do("GET", "/v1/webhooks", key, nil).Body.String())
			}
			rec = e.do("PATCH", "/v1/webhooks/"+id, e.admin, map[string]any{"description": "renamed"})
			if rec.Code != http.StatusOK {
				t.Fatalf("patch: %d %s", rec.Code, rec.Body)
			}
			noCredential(t, "patch", rec.Body.String())

			stored, err := e.store.GetWebhook(context.Background(), e.org, id)
			if err != nil {
				t.Fatal(err)
			}
			if stored.Auth.Type != tt.typ || webhook.MaskedAuth(stored.Auth).Type != tt.typ ||
				stored.Auth.Password+stored.Auth.Token+stored.Auth.ClientSecret == "" {
				t.Errorf("stored auth %+v lost its credential", webhook.MaskedAuth(stored.Auth))
			}
		})
	}
	noCredential(t, "the log", e.logs.String())
	// The settings column holds no credential either (it is sealed with the headers).
	var settings string
	if err := e.store.Pool().QueryRow(context.Background(), "SELECT string_agg(settings::text, ' ') FROM webhooks").Scan(&settings); err != nil {
		t.Fatal(err)
	}
	noCredential(t, "the settings column", settings)
}

// TestPatchKeepsMaskedAuth: sending back the auth a read showed keeps the stored
// credential; a mask sent to another token endpoint, client or username is refused and
// changes nothing; a new credential replaces the old one.
func TestPatchKeepsMaskedAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createEventType(e.admin, "device.created", nil)
	for _, tt := range authBodies {
		t.Run(tt.typ, func(t *testing.T) {
			body := webhookBody("device.created")
			body["name"] = "keep " + tt.typ
			body["auth"] = tt.auth
			id := str(e.createWebhook(e.admin, body)["id"])
			storedAuth := func() webhook.Auth {
				t.Helper()
				w, err := e.store.GetWebhook(context.Background(), e.org, id)
				if err != nil {
					t.Fatal(err)
				}
				return w.Auth
			}
			before := storedAuth()

			read := e.must(http.StatusOK, "GET", "/v1/webhooks/"+id, e.admin, nil)["auth"]
			e.must(http.StatusOK, "PATCH", "/v1/webhooks/"+id, e.admin, map[string]any{"auth": read})
			if got := storedAuth(); !reflect.DeepEqual(got, before) {
				t.Errorf("sending the read back changed auth: %+v", webhook.MaskedAuth(got))
			}

			// The mask aimed at another party.
			moved := map[string]any{}
			for k, v := range read.(map[string]any) {
				moved[k] = v
			}
			field := map[string]string{"basic": "auth.password", "bearer": "", "oauth2": "auth.clientSecret"}[tt.typ]
			switch tt.typ {
			case "basic":
				moved["username"] = "someone-else"
			case "oauth2":
				moved["tokenUrl"] = "https://attacker.example/token"
			}
			if field != "" {
				p := decodeProblem(t, e.do("PATCH", "/v1/webhooks/"+id, e.admin, map[string]any{"auth": moved}), http.StatusUnprocessableEntity)
				wantFields(t, p, field)
				if got := storedAuth(); !reflect.DeepEqual(got, before) {
					t.Errorf("a refused patch changed auth: %+v", webhook.MaskedAuth(got))
				}
			}

			// A mask with another type keeps nothing.
			other, otherField := otherAuth(tt.typ)
			p := decodeProblem(t, e.do("PATCH", "/v1/webhooks/"+id, e.admin, map[string]any{"auth": other}), http.StatusUnprocessableEntity)
			wantFields(t, p, otherField)

			// A new credential replaces it.
			fresh := map[string]any{}
			for k, v := range tt.auth {
				fresh[k] = v
			}
			secret := map[string]string{"basic": "password", "bearer": "token", "oauth2": "clientSecret"}[tt.typ]
			fresh[secret] = "replaced-1"
			e.must(http.StatusOK, "PATCH", "/v1/webhooks/"+id, e.admin, map[string]any{"auth": fresh})
			got := storedAuth()
			if got.Password+got.Token+got.ClientSecret != "replaced-1" {
				t.Errorf("new credential not stored: %+v", webhook.MaskedAuth(got))
			}
		})
	}
}

// otherAuth is an auth of a type other than typ with its credential masked, and the
// field of that credential.
func otherAuth(typ string) (map[string]any, string) {
	if typ == "bearer" {
		return map[string]any{"type": "basic", "username": "mailer", "password": "********"}, "auth.password"
	}
	return map[string]any{"type": "bearer", "token": "********"}, "auth.token"
}

// TestAuthRefusals: bad auth objects are a 422 naming the field, and write nothing.
func TestAuthRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createEventType(e.admin, "device.created", nil)
	tests := []struct {
		name   string
		auth   any
		extra  map[string]any
		fields []string
	}{
		{"unknown type", map[string]any{"type": "digest"}, nil, []string{"auth.type"}},
		{"basic without username", map[string]any{"type": "basic", "password": "p"}, nil, []string{"auth.username"}},
		{"basic username with a colon", map[string]any{"type": "basic", "username": "a:b"}, nil, []string{"auth.username"}},
		{"a field of another type", map[string]any{"type": "basic", "username": "u", "token": "t"}, nil, []string{"auth.token"}},
		{"bearer with a newline", map[string]any{"type": "bearer", "token": "a\r\nb"}, nil, []string{"auth.token"}},
		{"oauth2 missing its client", map[string]any{"type": "oauth2", "tokenUrl": "https://auth.example.com/t"}, nil,
			[]string{"auth.clientId", "auth.clientSecret"}},
		{"oauth2 token url to the metadata service", map[string]any{"type": "oauth2", "tokenUrl": "https://169.254.169.254/token",
			"clientId": "c", "clientSecret": "s"}, nil, []string{"auth.tokenUrl"}},
		{"oauth2 token url over http", map[string]any{"type": "oauth2", "tokenUrl": "http://auth.example.com/token",
			"clientId": "c", "clientSecret": "s"}, nil, []string{"auth.tokenUrl"}},
		{"oauth2 bad scope", map[string]any{"type": "oauth2", "tokenUrl": "https://auth.example.com/t",
			"clientId": "c", "clientSecret": "s", "scopes": []any{"a b"}}, nil, []string{"auth.scopes[0]"}},
		{"the mask as a new credential", map[string]any{"type": "bearer", "token": "********"}, nil, []string{"auth.token"}},
		{"auth with a custom Authorization header", map[string]any{"type": "bearer", "token": "t"},
			map[string]any{"headers": map[string]any{"Authorization": "Bearer x"}}, []string{"headers.Authorization"}},
		{"not an object", "basic", nil, []string{"auth"}},
		{"a wrong member type", map[string]any{"type": "bearer", "token": 5}, nil, []string{"auth.token"}},
		{"an unknown member", map[string]any{"type": "basic", "username": "u", "pasword": "p"}, nil, []string{"auth.pasword"}},
		{"a member in another case", map[string]any{"type": "basic", "username": "u", "Password": "p"}, nil, []string{"auth.Password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.counts()
			body := webhookBody("device.created")
			body["auth"] = tt.auth
			for k, v := range tt.extra {
				body[k] = v
			}
			p := decodeProblem(t, e.do("POST", "/v1/webhooks", e.admin, body), http.StatusUnprocessableEntity)
			wantFields(t, p, tt.fields...)
			e.assertUnchanged(before)
		})
	}
}
