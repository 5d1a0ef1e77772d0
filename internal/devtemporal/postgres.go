package devtemporal

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql" // registers postgres12 and postgres12_pgx
	postgresschema "go.temporal.io/server/schema/postgresql/v12"
	toolschema "go.temporal.io/server/tools/common/schema"
	toolsql "go.temporal.io/server/tools/sql"
)

// Defaults applied to the zero values of a PostgresStore, and of
// Options.NumHistoryShards with one.
const (
	DefaultPostgresHost               = "127.0.0.1"
	DefaultPostgresPort               = 5432
	DefaultPostgresDatabase           = "temporal"
	DefaultPostgresVisibilityDatabase = "temporal_visibility"
	DefaultPostgresMaxConns           = 10
	// DefaultPostgresNumHistoryShards is Options.NumHistoryShards for a
	// server persisted in PostgreSQL: what Temporal's own Docker images
	// default to, and so the shape of hookd's docker-compose.yml. PostgreSQL,
	// unlike SQLite, writes to different shards in parallel: in a quick check
	// on a 2-core machine, 4 shards completed empty workflows about twice as
	// fast as 1.
	DefaultPostgresNumHistoryShards = 4
)

// sqlSchema is a schema embedded in go.temporal.io/server (its schema
// package), by the name its schema tool takes for --schema-name, with the
// version this server expects a database to have.
type sqlSchema struct{ name, version string }

var (
	postgresSchema           = sqlSchema{"postgresql/v12/temporal", postgresschema.Version}
	postgresVisibilitySchema = sqlSchema{"postgresql/v12/visibility", postgresschema.VisibilityVersion}
)

// postgresLockKey is the session advisory lock a server holds in its main
// database (advisory locks are per database) for as long as it runs.
const postgresLockKey int64 = 0x686f6f6b64_7464 // "hookd" "td"

// PostgresStore persists a server in PostgreSQL, the way a production
// Temporal cluster runs, instead of SQLite: executions in Database,
// visibility (SQL visibility, with custom search attributes) in
// VisibilityDatabase. Start creates both databases when they are missing
// (the user then needs CREATEDB) and creates or updates their schemas with
// the schema files and tool shipped in go.temporal.io/server, so they always
// match the server version compiled in.
type PostgresStore struct {
	// Host is the server's host name or IP address, or a directory holding
	// its unix socket (a path starting with "/"); default
	// DefaultPostgresHost.
	Host string
	// Port; default DefaultPostgresPort.
	Port int
	// User is required; Password may be empty (trust or peer auth).
	User, Password string
	// Database holds executions, shards, task queues and namespaces; default
	// DefaultPostgresDatabase.
	Database string
	// VisibilityDatabase holds visibility records; default
	// DefaultPostgresVisibilityDatabase. It must differ from Database.
	VisibilityDatabase string
	// MaxConns caps each connection pool, and as many connections stay open
	// when idle; default DefaultPostgresMaxConns. The server runs one pool
	// per service for Database (frontend, history, matching, worker) and
	// one per service that reads or writes visibility (frontend, history,
	// worker): up to 7 × MaxConns connections, which must fit in the
	// server's max_connections beside everything else using it.
	MaxConns int
	// ConnectAttributes are extra libpq connection parameters, such as
	// sslmode or sslrootcert; sslmode defaults to disable.
	ConnectAttributes map[string]string
}

// urlParams are the query parameters ParsePostgresURL keeps: libpq
// connection parameters both the pgx and lib/pq drivers understand. Others
// (pgxpool's pool_max_conns, say) are left out, since a driver would send an
// unknown one to the server as a setting.
var urlParams = map[string]bool{
	"sslmode": true, "sslrootcert": true, "sslcert": true, "sslkey": true, "sslpassword": true,
	"sslsni": true, "connect_timeout": true, "application_name": true, "options": true,
}

// ParsePostgresURL takes the server address, user, password and connection
// parameters (see urlParams; a host parameter names a socket directory) from
// a PostgreSQL URL such as hookd's DATABASE_URL,
// postgres://user:pass@host:5432/hookd?sslmode=require. The URL's database
// is not used: Database and VisibilityDatabase are left for the caller (or
// the defaults).
func ParsePostgresURL(s string) (*PostgresStore, error) {
	u, err := url.Parse(s)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // without the URL, which may hold a password
		}
		return nil, fmt.Errorf("parse postgres URL: %w", err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return nil, fmt.Errorf("parse postgres URL: scheme %q, want postgres or postgresql", u.Scheme)
	}
	if strings.Contains(u.Host, ",") {
		return nil, errors.New("parse postgres URL: more than one host is not supported")
	}
	p := &PostgresStore{Host: u.Hostname(), User: u.User.Username()}
	p.Password, _ = u.User.Password()
	if port := u.Port(); port != "" {
		if p.Port, err = strconv.Atoi(port); err != nil {
			return nil, fmt.Errorf("parse postgres URL: port %q", port)
		}
	}
	for k, vs := range u.Query() {
		v := vs[len(vs)-1]
		switch {
		case k == "host":
			p.Host = v
		case k == "port":
			if p.Port, err = strconv.Atoi(v); err != nil {
				return nil, fmt.Errorf("parse postgres URL: port %q", v)
			}
		case k == "user":
			p.User = v
		case k == "password":
			p.Password = v
		case urlParams[k]:
			if p.ConnectAttributes == nil {
				p.ConnectAttributes = map[string]string{}
			}
			p.ConnectAttributes[k] = v
		}
	}
	return p, nil
}

// Names that go into a URL unescaped (the Temporal plugin builds its DSN
// with fmt) and into CREATE DATABASE.
var (
	pgDatabaseName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$-]{0,62}$`)
	pgUserName     = regexp.MustCompile(`^[^:/@?#%\s]+$`)
)

// withDefaults returns a copy of p with defaults applied, or an error naming
// each bad field.
func (p PostgresStore) withDefaults() (*PostgresStore, error) {
	if p.Host == "" {
		p.Host = DefaultPostgresHost
	}
	if p.Port == 0 {
		p.Port = DefaultPostgresPort
	}
	if p.Database == "" {
		p.Database = DefaultPostgresDatabase
	}
	if p.VisibilityDatabase == "" {
		p.VisibilityDatabase = DefaultPostgresVisibilityDatabase
	}
	if p.MaxConns == 0 {
		p.MaxConns = DefaultPostgresMaxConns
	}
	p.ConnectAttributes = maps.Clone(p.ConnectAttributes)
	var errs []error
	if p.Port < 0 || p.Port > 65535 {
		errs = append(errs, fmt.Errorf("Postgres.Port %d is not a port", p.Port))
	}
	if !pgUserName.MatchString(p.User) {
		errs = append(errs, fmt.Errorf("Postgres.User %q: want a name without spaces or any of :/@?#%%", p.User))
	}
	for field, name := range map[string]string{"Database": p.Database, "VisibilityDatabase": p.VisibilityDatabase} {
		if !pgDatabaseName.MatchString(name) {
			errs = append(errs, fmt.Errorf("database name %q (Postgres.%s): want letters, digits, _, $ or -", name, field))
		}
	}
	if p.Database == p.VisibilityDatabase {
		errs = append(errs, fmt.Errorf("Postgres.Database and VisibilityDatabase are both %q", p.Database))
	}
	if p.MaxConns < 0 {
		errs = append(errs, fmt.Errorf("Postgres.MaxConns %d is negative", p.MaxConns))
	}
	if h, ok := p.ConnectAttributes["host"]; ok {
		errs = append(errs, fmt.Errorf("Postgres.ConnectAttributes: set Host instead of host=%q", h))
	}
	return &p, errors.Join(errs...)
}

// socket reports whether Host is a unix socket directory.
func (p *PostgresStore) socket() bool { return strings.HasPrefix(p.Host, "/") }

// attributes are the connection parameters of every connection.
func (p *PostgresStore) attributes() map[string]string {
	attrs := map[string]string{"sslmode": "disable"}
	maps.Copy(attrs, p.ConnectAttributes)
	if p.socket() {
		attrs["host"] = p.Host // overrides the URL's host in both drivers
	}
	return attrs
}

// address is the host:port part of a URL; for a socket the host is a
// placeholder that the host parameter overrides.
func (p *PostgresStore) address() string {
	if p.socket() {
		return net.JoinHostPort("localhost", strconv.Itoa(p.Port))
	}
	return net.JoinHostPort(p.Host, strconv.Itoa(p.Port))
}

// url is a connection URL for database db, for this package's own
// connections (pgx).
func (p *PostgresStore) url(db string) string {
	u := url.URL{Scheme: "postgres", Host: p.address(), Path: "/" + db, User: url.User(p.User)}
	if p.Password != "" {
		u.User = url.UserPassword(p.User, p.Password)
	}
	q := url.Values{}
	for k, v := range p.attributes() {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// sqlConfig is the Temporal data store for database db, on the pgx driver.
func (p *PostgresStore) sqlConfig(db string) *config.SQL {
	return &config.SQL{
		PluginName:      postgresql.PluginNamePGX,
		DatabaseName:    db,
		ConnectAddr:     p.address(),
		ConnectProtocol: "tcp",
		User:            p.User,
		Password:        p.Password,
		// Keep the pool warm: database/sql keeps only 2 idle connections by
		// default, and reconnecting under load costs more than holding them.
		MaxConns:          p.MaxConns,
		MaxIdleConns:      p.MaxConns,
		MaxConnLifetime:   time.Hour,
		ConnectAttributes: p.attributes(),
	}
}

// pgLock is the advisory lock that keeps a second server, in this process
// or another, off the databases: two servers on one database would fight
// over shard ownership. The server drops it when the connection closes,
// so a crash never leaves it held.
type pgLock struct{ conn *pgx.Conn }

func (l *pgLock) release() {
	if l == nil || l.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = l.conn.Close(ctx) // closing the session releases the lock
	l.conn = nil
}

// preparePostgres makes p's databases ready for a server: it creates them
// if missing, takes the lock, creates or updates both schemas to the
// versions this server expects, and creates the namespace. It returns the
// lock, which the caller releases after the server stops.
func preparePostgres(ctx context.Context, o Options, logger log.Logger) (*pgLock, persistence, error) {
	began := time.Now()
	p := o.Postgres
	conn, err := connectCreating(ctx, p)
	if err != nil {
		return nil, persistence{}, err
	}
	lock := &pgLock{conn: conn}
	ok := false
	defer func() {
		if !ok {
			lock.release()
		}
	}()
	var locked bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", postgresLockKey).Scan(&locked); err != nil {
		return nil, persistence{}, fmt.Errorf("lock database %s: %w", p.Database, err)
	}
	if !locked {
		return nil, persistence{}, fmt.Errorf("lock database: PostgreSQL database %s is in use by another Temporal dev server", p.Database)
	}
	if err := createDatabase(ctx, conn, p.VisibilityDatabase); err != nil {
		return nil, persistence{}, err
	}

	stores := persistence{
		main:       storeConfig{name: "postgres-default", sql: p.sqlConfig(p.Database)},
		visibility: storeConfig{name: "postgres-visibility", sql: p.sqlConfig(p.VisibilityDatabase)},
	}
	if err := migrateSchema(stores.main.sql, postgresSchema, "", logger); err != nil {
		return nil, persistence{}, err
	}
	if err := migrateSchema(stores.visibility.sql, postgresVisibilitySchema, "", logger); err != nil {
		return nil, persistence{}, err
	}
	if err := createNamespace(o, stores.main.sql); err != nil {
		return nil, persistence{}, err
	}
	o.Logger.Info("temporal databases ready", "store", "postgres", "address", p.address(),
		"databases", []string{p.Database, p.VisibilityDatabase}, "took", time.Since(began).Round(time.Millisecond))
	ok = true
	return lock, stores, nil
}

// connectCreating connects to p.Database, creating it first when it does
// not exist.
func connectCreating(ctx context.Context, p *PostgresStore) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, p.url(p.Database))
	if err == nil {
		return conn, nil
	}
	if !isPgError(err, "3D000") { // invalid_catalog_name: no such database
		return nil, fmt.Errorf("connect to PostgreSQL database %s at %s: %w", p.Database, p.address(), err)
	}
	// CREATE DATABASE runs in any database: find one to run it in.
	var maint *pgx.Conn
	for _, db := range []string{"postgres", "template1"} {
		if maint, err = pgx.Connect(ctx, p.url(db)); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("create PostgreSQL database %s: connect to database postgres or template1: %w", p.Database, err)
	}
	err = createDatabase(ctx, maint, p.Database)
	_ = maint.Close(context.WithoutCancel(ctx))
	if err != nil {
		return nil, err
	}
	if conn, err = pgx.Connect(ctx, p.url(p.Database)); err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL database %s: %w", p.Database, err)
	}
	return conn, nil
}

// createDatabase creates database name through conn unless it exists.
func createDatabase(ctx context.Context, conn *pgx.Conn, name string) error {
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("look up PostgreSQL database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	_, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	switch {
	case err == nil, isPgError(err, "42P04"): // duplicate_database: another start won the race
		return nil
	case isPgError(err, "42501"): // insufficient_privilege
		return fmt.Errorf("create PostgreSQL database %s: %w (create it, or grant the user CREATEDB)", name, err)
	default:
		return fmt.Errorf("create PostgreSQL database %s: %w", name, err)
	}
}

func isPgError(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}

// migrateSchema brings the database of conf to version targetVersion of
// schema ("" for schema.version, the newest this server ships) with the
// schema files embedded in go.temporal.io/server and the library behind its
// temporal-sql-tool:
//   - an empty database gets the whole schema file at once, marked with
//     its version (setup-schema --schema-name NAME --version V);
//   - any other gets the version tables and, if it has no version yet,
//     version 0.0 (setup-schema --version 0.0), then every versioned change
//     after its version (update-schema --schema-name NAME), as Temporal's
//     auto-setup image does. A change left half-applied by a crash is
//     applied again, skipping what already exists.
//
// An up-to-date database costs a few catalog reads.
func migrateSchema(conf *config.SQL, schema sqlSchema, targetVersion string, logger log.Logger) error {
	conn, err := toolsql.NewConnection(conf, logger)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL database %s: %w", conf.DatabaseName, err)
	}
	defer conn.Close()
	tables, err := conn.ListTables()
	if err != nil {
		return fmt.Errorf("list tables of PostgreSQL database %s: %w", conf.DatabaseName, err)
	}
	setup := &toolschema.SetupConfig{InitialVersion: "0.0"}
	if len(tables) == 0 && (targetVersion == "" || targetVersion == schema.version) {
		setup.SchemaName, setup.InitialVersion = schema.name, schema.version
	}
	if err := toolschema.NewSetupSchemaTask(conn, setup, logger).Run(); err != nil {
		return fmt.Errorf("set up schema %s in PostgreSQL database %s: %w", schema.name, conf.DatabaseName, err)
	}
	update := toolschema.NewUpdateSchemaTask(conn, &toolschema.UpdateConfig{
		DBName:        conf.DatabaseName,
		SchemaName:    schema.name,
		TargetVersion: targetVersion,
	}, logger)
	if err := update.Run(); err != nil {
		return fmt.Errorf("update schema %s in PostgreSQL database %s: %w", schema.name, conf.DatabaseName, err)
	}
	return nil
}
