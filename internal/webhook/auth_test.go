package webhook

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hookd/hookd/internal/netguard"
	"github.com/hookd/hookd/internal/redact"
)

func basicAuth(user, pass string) Auth { return Auth{Type: AuthBasic, Username: user, Password: pass} }

func oauth2Auth() Auth {
	return Auth{Type: AuthOAuth2, TokenURL: "https://auth.example.com/token", ClientID: "hookd",
		ClientSecret: "cs-123", Scopes: []string{"devices:write", "events"}}
}

func TestCheckAuth(t *testing.T) {
	t.Parallel()
	with := func(a Auth) func(*Settings) { return func(s *Settings) { s.Auth = a } }
	oauth := func(edit func(*Auth)) func(*Settings) {
		return func(s *Settings) { a := oauth2Auth(); edit(&a); s.Auth = a }
	}
	tests := []struct {
		name string
		edit func(*Settings)
		opts netguard.Options
		want []string
	}{
		{"none", with(Auth{Type: AuthNone}), netguard.Options{}, nil},
		{"no type", with(Auth{}), netguard.Options{}, []string{"auth.type: is required: none, basic, bearer or oauth2"}},
		{"unknown type", with(Auth{Type: "digest", Username: "u"}), netguard.Options{},
			[]string{"auth.type: must be none, basic, bearer or oauth2"}},
		{"none with fields", with(Auth{Type: AuthNone, Username: "u", Token: "t", Scopes: []string{}}), netguard.Options{}, []string{
			"auth.username: is not used with auth type none",
			"auth.token: is not used with auth type none",
			"auth.scopes: is not used with auth type none",
		}},
		{"basic (seed 003)", with(basicAuth("mailer", "pw")), netguard.Options{}, nil},
		{"basic with an empty password", with(basicAuth("mailer", "")), netguard.Options{}, nil},
		{"basic without username", with(basicAuth("", "pw")), netguard.Options{},
			[]string{"auth.username: is required with auth type basic"}},
		{"basic username with a colon", with(basicAuth("a:b", "pw")), netguard.Options{},
			[]string{"auth.username: must not contain ':' (RFC 7617 §2)"}},
		{"basic with control characters", with(basicAuth("a\tb", "p\x00w")), netguard.Options{}, []string{
			"auth.username: must not contain control characters (RFC 7617 §2)",
			"auth.password: must not contain control characters (RFC 7617 §2)",
		}},
		{"basic too long", with(basicAuth(strings.Repeat("u", 257), strings.Repeat("p", 1025))), netguard.Options{}, []string{
			"auth.username: must be at most 256 bytes",
			"auth.password: must be at most 1024 bytes",
		}},
		{"basic with a token", with(Auth{Type: AuthBasic, Username: "u", Token: "t"}), netguard.Options{},
			[]string{"auth.token: is not used with auth type basic"}},
		{"basic with the mask", with(basicAuth("u", redact.Masked)), netguard.Options{},
			[]string{"auth.password: is or holds the mask reads show in place of a value; give the value itself"}},
		{"bearer", with(Auth{Type: AuthBearer, Token: "abc.def-ghi"}), netguard.Options{}, nil},
		{"bearer without token", with(Auth{Type: AuthBearer}), netguard.Options{},
			[]string{"auth.token: is required with auth type bearer"}},
		{"bearer with a newline", with(Auth{Type: AuthBearer, Token: "abc\r\nX-Evil: 1"}), netguard.Options{},
			[]string{"auth.token: has characters not allowed in a header value, or spaces around it"}},
		{"bearer with spaces around", with(Auth{Type: AuthBearer, Token: " abc"}), netguard.Options{},
			[]string{"auth.token: has characters not allowed in a header value, or spaces around it"}},
		{"bearer too long", with(Auth{Type: AuthBearer, Token: strings.Repeat("t", 4097)}), netguard.Options{},
			[]string{"auth.token: must be at most 4096 bytes"}},
		{"bearer holding the mask", with(Auth{Type: AuthBearer, Token: "x" + redact.Masked}), netguard.Options{},
			[]string{"auth.token: is or holds the mask reads show in place of a value; give the value itself"}},
		{"bearer with a password", with(Auth{Type: AuthBearer, Token: "t", Password: "p", ClientID: "c"}), netguard.Options{}, []string{
			"auth.password: is not used with auth type bearer",
			"auth.clientId: is not used with auth type bearer",
		}},
		{"oauth2 (seed 002)", oauth(func(*Auth) {}), netguard.Options{}, nil},
		{"oauth2 without scopes", oauth(func(a *Auth) { a.Scopes = nil }), netguard.Options{}, nil},
		{"oauth2 missing everything", with(Auth{Type: AuthOAuth2}), netguard.Options{}, []string{
			"auth.tokenUrl: is required with auth type oauth2",
			"auth.clientId: is required with auth type oauth2",
			"auth.clientSecret: is required with auth type oauth2",
		}},
		{"oauth2 token url to a private host", oauth(func(a *Auth) { a.TokenURL = "https://169.254.169.254/token" }), netguard.Options{},
			[]string{"auth.tokenUrl: 169.254.169.254 is not a public address"}},
		{"oauth2 token url to localhost allowed in dev", oauth(func(a *Auth) { a.TokenURL = "http://localhost:8080/token" }),
			netguard.Options{AllowHTTP: true, AllowPrivate: true}, nil},
		{"oauth2 token url over http", oauth(func(a *Auth) { a.TokenURL = "http://auth.example.com/token" }), netguard.Options{},
			[]string{"auth.tokenUrl: must use https"}},
		{"oauth2 token url with user information", oauth(func(a *Auth) { a.TokenURL = "https://u:p@auth.example.com/token" }), netguard.Options{},
			[]string{"auth.tokenUrl: must not contain user information; use the webhook's auth settings"}},
		{"oauth2 non-ASCII client", oauth(func(a *Auth) { a.ClientID, a.ClientSecret = "clïent", "s\n" }), netguard.Options{}, []string{
			"auth.clientId: must be printable ASCII (RFC 6749 Appendix A)",
			"auth.clientSecret: must be printable ASCII (RFC 6749 Appendix A)",
		}},
		{"oauth2 secret too long", oauth(func(a *Auth) { a.ClientSecret = strings.Repeat("s", 1025) }), netguard.Options{},
			[]string{"auth.clientSecret: must be at most 1024 bytes"}},
		{"oauth2 masked secret", oauth(func(a *Auth) { a.ClientSecret = redact.Masked }), netguard.Options{},
			[]string{"auth.clientSecret: is or holds the mask reads show in place of a value; give the value itself"}},
		{"oauth2 bad scopes", oauth(func(a *Auth) { a.Scopes = []string{"ok", "", "two words", `q"`, "ok"} }), netguard.Options{}, []string{
			"auth.scopes[1]: must not be empty",
			`auth.scopes[2]: must be a scope token: printable ASCII without spaces, '"' or '\' (RFC 6749 §3.3)`,
			`auth.scopes[3]: must be a scope token: printable ASCII without spaces, '"' or '\' (RFC 6749 §3.3)`,
			"auth.scopes[4]: is given twice",
		}},
		{"oauth2 too many scopes", oauth(func(a *Auth) { a.Scopes = slices.Repeat([]string{"s"}, 21) }), netguard.Options{},
			[]string{"auth.scopes: must list at most 20 scopes"}},
		{"oauth2 with a username", oauth(func(a *Auth) { a.Username = "u" }), netguard.Options{},
			[]string{"auth.username: is not used with auth type oauth2"}},
		{"auth with a custom Authorization header", func(s *Settings) {
			s.Auth = Auth{Type: AuthBearer, Token: "t"}
			s.Headers = map[string]string{"authorization": "Bearer other", "X-Tenant": "t1"}
		}, netguard.Options{}, []string{
			"headers.authorization: cannot be set with auth type bearer, which sets it; remove one of them",
		}},
		{"no auth with a custom Authorization header", func(s *Settings) {
			s.Headers = map[string]string{"Authorization": "Bearer other"}
		}, netguard.Options{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := valid()
			tt.edit(&s)
			got := problems(t, s.Validate(tt.opts))
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestMaskedAuth(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want Auth }{
		{Auth{Type: AuthNone}, Auth{Type: AuthNone}},
		{basicAuth("mailer", "pw"), basicAuth("mailer", redact.Masked)},
		{basicAuth("mailer", ""), basicAuth("mailer", "")},
		{Auth{Type: AuthBearer, Token: "tok"}, Auth{Type: AuthBearer, Token: redact.Masked}},
		{oauth2Auth(), func() Auth { a := oauth2Auth(); a.ClientSecret = redact.Masked; return a }()},
	} {
		in := tt.in
		in.Scopes = slices.Clone(tt.in.Scopes)
		got := MaskedAuth(in)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("MaskedAuth(%+v) = %+v, want %+v", tt.in, got, tt.want)
		}
		if got.Scopes != nil {
			got.Scopes[0] = "changed"
			if in.Scopes[0] == "changed" {
				t.Error("MaskedAuth shares the scopes of its argument")
			}
		}
	}
}

func TestKeepMaskedAuth(t *testing.T) {
	t.Parallel()
	stored := oauth2Auth()
	masked := MaskedAuth(stored)
	tests := []struct {
		name          string
		given, stored Auth
		want          Auth
	}{
		{"oauth2 read sent back", masked, stored, stored},
		{"oauth2 mask with spaces", func() Auth { a := masked; a.ClientSecret = " " + redact.Masked; return a }(), stored, stored},
		{"oauth2 new secret", func() Auth { a := masked; a.ClientSecret = "new"; return a }(), stored,
			func() Auth { a := stored; a.ClientSecret = "new"; return a }()},
		{"oauth2 new scopes keep the secret", func() Auth { a := masked; a.Scopes = []string{"x"}; return a }(), stored,
			func() Auth { a := stored; a.Scopes = []string{"x"}; return a }()},
		{"oauth2 another token url does not get the secret", func() Auth { a := masked; a.TokenURL = "https://evil.example/t"; return a }(), stored,
			func() Auth { a := masked; a.TokenURL = "https://evil.example/t"; return a }()},
		{"oauth2 another client does not get the secret", func() Auth { a := masked; a.ClientID = "other"; return a }(), stored,
			func() Auth { a := masked; a.ClientID = "other"; return a }()},
		{"basic read sent back", basicAuth("u", redact.Masked), basicAuth("u", "pw"), basicAuth("u", "pw")},
		{"basic another user", basicAuth("v", redact.Masked), basicAuth("u", "pw"), basicAuth("v", redact.Masked)},
		{"bearer read sent back", Auth{Type: AuthBearer, Token: redact.Masked}, Auth{Type: AuthBearer, Token: "tok"}, Auth{Type: AuthBearer, Token: "tok"}},
		{"another type keeps nothing", Auth{Type: AuthBearer, Token: redact.Masked}, basicAuth("u", "pw"), Auth{Type: AuthBearer, Token: redact.Masked}},
		{"nothing stored", Auth{Type: AuthBearer, Token: redact.Masked}, Auth{Type: AuthNone}, Auth{Type: AuthBearer, Token: redact.Masked}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := KeepMaskedAuth(tt.given, tt.stored); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	// What was kept passes Validate; a mask left over does not.
	s := valid()
	s.Auth = KeepMaskedAuth(masked, stored)
	if err := s.Validate(netguard.Options{}); err != nil {
		t.Errorf("kept auth: %v", err)
	}
	s.Auth = KeepMaskedAuth(Auth{Type: AuthBearer, Token: redact.Masked}, stored)
	if err := s.Validate(netguard.Options{}); err == nil {
		t.Error("a mask with nothing to keep passed Validate")
	}
}

func TestAuthJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     Auth
		fields   []string // named by the *validation.Errors
		bad      bool     // any other error
	}{
		{"basic", `{"type":"basic","username":"u","password":"p"}`, basicAuth("u", "p"), nil, false},
		{"oauth2", `{"type":"oauth2","tokenUrl":"https://auth.example.com/token","clientId":"hookd","clientSecret":"cs-123","scopes":["devices:write","events"]}`,
			oauth2Auth(), nil, false},
		{"a typo", `{"type":"basic","username":"u","pasword":"p"}`, Auth{}, []string{"auth.pasword"}, false},
		{"names are case sensitive", `{"type":"basic","username":"u","Password":"p","Token":"t"}`, Auth{},
			[]string{"auth.Password", "auth.Token"}, false},
		{"a wrong type", `{"type":"bearer","token":5}`, Auth{}, []string{"auth.token"}, false},
		{"scopes not strings", `{"type":"oauth2","scopes":[1]}`, Auth{}, []string{"auth.scopes"}, false},
		{"not an object", `"basic"`, Auth{}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got Auth
			err := json.Unmarshal([]byte(tt.in), &got)
			switch {
			case tt.bad:
				if err == nil {
					t.Fatal("no error")
				}
				return
			case tt.fields != nil:
				var fields []string
				for _, p := range problems(t, err) {
					f, _, _ := strings.Cut(p, ":")
					fields = append(fields, f)
				}
				if !slices.Equal(fields, tt.fields) {
					t.Fatalf("fields %q, want %q (%v)", fields, tt.fields, err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	// The stored form reads back as written.
	b, err := json.Marshal(Secrets{Auth: &Auth{Type: AuthBasic, Username: "u", Password: "p"}})
	if err != nil {
		t.Fatal(err)
	}
	var back Secrets
	if err := json.Unmarshal(b, &back); err != nil || back.Auth == nil || !reflect.DeepEqual(*back.Auth, basicAuth("u", "p")) {
		t.Errorf("secrets round trip: %+v, %v", back.Auth, err)
	}
}

// FuzzAuth: any auth object either fails to decode with an error or, when valid, reads
// back masked without its credentials, and sending that read back (KeepMaskedAuth) gives
// the same auth again.
func FuzzAuth(f *testing.F) {
	for _, seed := range []string{
		`{"type":"basic","username":"u","password":"p"}`,
		`{"type":"basic","username":"u","password":""}`,
		`{"type":"bearer","token":"t"}`,
		`{"type":"oauth2","tokenUrl":"https://auth.example.com/token","clientId":"c","clientSecret":"s","scopes":["a","b"]}`,
		`{"type":"none"}`, `{"type":"basic","pasword":"x"}`, `null`, `[]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var a Auth
		if err := json.Unmarshal(data, &a); err != nil {
			return
		}
		s := valid()
		s.Auth = a
		if s.Validate(netguard.Options{}) != nil {
			return
		}
		read := MaskedAuth(a)
		for _, shown := range []string{read.Password, read.Token, read.ClientSecret} {
			if shown != "" && shown != redact.Masked {
				t.Fatalf("read %+v shows a credential", read)
			}
		}
		if back := KeepMaskedAuth(read, a); !reflect.DeepEqual(back, a) && !(len(back.Scopes) == 0 && len(a.Scopes) == 0) {
			t.Fatalf("sending the read back gives %+v, want %+v", back, a)
		}
	})
}
