package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/hookd/hookd/internal/auth"
	"github.com/hookd/hookd/internal/config"
	"github.com/hookd/hookd/internal/secretbox"
	"github.com/hookd/hookd/internal/store"
)

// devOrgID is the organization `hookd dev` and `hookd keys create` use by default.
const devOrgID = "org_default"

// runKeys runs `hookd keys create`: it prints a new API key of the given role. Without
// DATABASE_URL it uses hookd dev's private PostgreSQL in HOOKD_DATA_DIR.
func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: hookd keys create --role admin|publisher|viewer [--org ID] [--name NAME]")
	}
	var role, org, name string
	cfg, err := loadConfig(config.KeysCreate, args[1:], stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&role, "role", "", "admin, publisher or viewer")
		fs.StringVar(&org, "org", devOrgID, "organization id (created if missing)")
		fs.StringVar(&name, "name", "", "a label for the key (default: the role's name)")
	})
	if err != nil {
		return err
	}
	r := store.Role(role)
	if r != store.RoleAdmin && r != store.RolePublisher && r != store.RoleViewer {
		return fmt.Errorf("--role %q: want admin, publisher or viewer", role)
	}
	dbURL := cfg.DatabaseURL
	if dbURL == "" {
		url, release, err := openDevDatabase(ctx, cfg.DataDir)
		if err != nil {
			return err
		}
		defer release()
		dbURL = url
	}
	// Keys touch no webhook secret, so a throwaway encryption key will do.
	st, err := openStore(ctx, newLogger(slog.LevelInfo), dbURL, secretbox.GenerateKey())
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.EnsureOrganization(ctx, org, org); err != nil {
		return fmt.Errorf("ensure organization: %w", err)
	}
	plaintext, _, _ := auth.NewKey()
	if name == "" {
		name = string(r) + " key"
	}
	if err := ensureKey(ctx, st, org, r, name, plaintext); err != nil {
		return err
	}
	fmt.Fprintln(stdout, plaintext)
	return nil
}

// ensureKey stores plaintext as a key of org unless it is stored already.
func ensureKey(ctx context.Context, st *store.Store, orgID string, role store.Role, name, plaintext string) error {
	_, err := st.APIKeyByHash(ctx, auth.Hash(plaintext))
	if err == nil {
		return nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("look up key: %w", err)
	}
	if err := st.InsertAPIKey(ctx, auth.Record(orgID, role, name, plaintext)); err != nil {
		return fmt.Errorf("store key: %w", err)
	}
	return nil
}
