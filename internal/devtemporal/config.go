package devtemporal

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
	"google.golang.org/protobuf/types/known/durationpb"
)

const (
	sqliteStoreName = "sqlite-default" // one store for executions and visibility
	clusterName     = "active"
)

// persistence names the data stores of a server.
type persistence struct {
	main, visibility storeConfig // the same store twice for SQLite
}

type storeConfig struct {
	name string
	sql  *config.SQL
}

// sqlitePragmas are applied to every connection of a file database. WAL lets
// readers (the UI, visibility queries) run beside the writer and, with
// synchronous=NORMAL, commits without an fsync each: a crash of hookd loses
// nothing, a power cut may lose the last moments, fine for a dev server.
// busy_timeout waits out a short lock held by another process (a backup, a
// `sqlite3` shell) instead of failing at once.
var sqlitePragmas = map[string]string{
	"journal_mode": "wal",
	"synchronous":  "normal",
	"busy_timeout": "5000",
}

// memoryDBSeq names in-memory databases: one name per server in the process,
// since SQLite shares a named in-memory database between its connections.
var memoryDBSeq atomic.Int64

// sqlConfig is the SQLite data store for o. The Temporal SQLite plugin keeps
// one connection per distinct DSN for the life of the process (it never
// closes them), and every user of this config (schema setup, namespace
// creation, the server's stores) shares it.
func sqlConfig(o Options) *config.SQL {
	c := &config.SQL{PluginName: sqliteplugin.PluginName, ConnectAttributes: map[string]string{}}
	if o.DBFile == "" {
		// The plugin creates the schema itself for mode=memory.
		c.DatabaseName = fmt.Sprintf("devtemporal-%d-%d", os.Getpid(), memoryDBSeq.Add(1))
		c.ConnectAttributes["mode"] = "memory"
		c.ConnectAttributes["cache"] = "shared"
		return c
	}
	c.DatabaseName = o.DBFile
	c.ConnectAttributes["mode"] = "rwc"
	for k, v := range sqlitePragmas {
		c.ConnectAttributes[k] = v
	}
	return c
}

// prepareDatabase creates the schema of a new database file and the
// namespace, with its retention and search attributes, when they are
// missing.
func prepareDatabase(o Options) (persistence, error) {
	conf := sqlConfig(o)
	if o.DBFile != "" {
		fresh, err := isNewDatabase(o.DBFile)
		if err != nil {
			return persistence{}, err
		}
		if fresh {
			if err := sqliteschema.SetupSchema(conf); err != nil {
				return persistence{}, fmt.Errorf("create temporal schema in %s: %w", o.DBFile, err)
			}
		}
		if err := trimVisibilityIndexes(o.DBFile); err != nil {
			return persistence{}, err
		}
	}
	if err := createNamespace(o, conf); err != nil {
		return persistence{}, err
	}
	store := storeConfig{name: sqliteStoreName, sql: conf}
	return persistence{main: store, visibility: store}, nil
}

// createNamespace creates o.Namespace, with its retention and search
// attributes, in the database of conf unless it exists. Creating the
// namespace in the database before the server starts (as `temporal server
// start-dev` does) makes it usable the moment the frontend answers;
// registering it through the API would leave a window in which the
// frontend's namespace cache does not know it yet. The helpers live in the
// server's SQLite schema package but work on any SQL plugin: they map the
// search attributes onto the pre-allocated columns (Keyword01, Int01, ...)
// that SQL visibility has in SQLite and PostgreSQL alike, and insert the
// namespace row through the plugin.
func createNamespace(o Options, conf *config.SQL) error {
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, o.Namespace, false, o.SearchAttributes)
	if err != nil {
		return fmt.Errorf("configure namespace %s: %w", o.Namespace, err)
	}
	ns.Detail.Config.Retention = durationpb.New(o.Retention)
	if err := sqliteschema.CreateNamespaces(conf, ns); err != nil {
		return fmt.Errorf("create namespace %s: %w", o.Namespace, err)
	}
	return nil
}

// isNewDatabase reports whether dbFile has no schema yet: missing, or empty
// (SQLite creates an empty file on open, so a start that died right then
// leaves one behind).
func isNewDatabase(dbFile string) (bool, error) {
	fi, err := os.Stat(dbFile)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("inspect database file: %w", err)
	case fi.IsDir():
		return false, fmt.Errorf("database file %s is a directory", dbFile)
	}
	return fi.Size() == 0, nil
}

// DevDynamicConfig returns the dynamic config every embedded server gets
// (Options.DynamicConfig is applied on top), chosen for a quick, consistent
// single-process dev loop:
//   - system.enableEagerWorkflowStart: a start request from a client whose
//     worker polls the same task queue gets the first workflow task back in
//     the response, skipping matching (on by default in v1.32, set to be sure).
//   - frontend/history persistenceMaxQPS raised (as the CLI): one process
//     serves every request, so the per-service limits only get in the way.
//   - frontend.namespaceRPS.visibility 100 (as the CLI, default 10): the UI
//     and tests poll visibility often.
//   - matching.numTaskqueueRead/WritePartitions 1: one partition per task
//     queue, so a task never waits in a partition no poller is watching
//     before it is forwarded; one process needs no more.
//   - history.hostLevelCacheMaxSize 1000 (default 128000): the history
//     service keeps the mutable state of every workflow it touched in
//     memory, ~25 KiB each: with 10,000 deliveries waiting in backoff
//     hookd dev's RSS fell from ~740 to ~390 MiB with 1000 entries, at the
//     same throughput. 1000 is well above the entries in use at
//     once (workflow task slots, starts in flight, queue tasks), so the
//     cache does not fill with pinned entries and answer ResourceExhausted.
//     (An earlier try with 1000 workflow task slots coincided with duplicate
//     deliveries; the attempt activity now recognises a re-executed attempt
//     and does not send it again.)
//
// system.forceSearchAttributesCacheRefreshOnRead is on only while Start
// registers the search attributes, and for a minute more if it added one
// (each service caches them for a minute), never for good as in the CLI:
// it makes every search attribute check (each upsert a workflow makes) read
// the cluster metadata under one process-wide mutex, and at 100 workflows/s
// that queue held workflow task completions for seconds.
func DevDynamicConfig() map[string]any {
	return map[string]any{
		dynamicconfig.EnableEagerWorkflowStart.Key().String():                     true,
		dynamicconfig.FrontendPersistenceMaxQPS.Key().String():                    10000,
		dynamicconfig.HistoryPersistenceMaxQPS.Key().String():                     45000,
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key().String(): 100,
		dynamicconfig.MatchingNumTaskqueueReadPartitions.Key().String():           1,
		dynamicconfig.MatchingNumTaskqueueWritePartitions.Key().String():          1,
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key().String():                 1000,
	}
}

// dynamicConfigClient is the server's dynamic config: DevDynamicConfig with
// o.DynamicConfig on top, and, unless o.DynamicConfig sets it,
// system.forceSearchAttributesCacheRefreshOnRead on until the returned
// endStartup is called (see DevDynamicConfig).
func dynamicConfigClient(o Options) (dc *dynamicconfig.MemoryClient, endStartup func()) {
	values := DevDynamicConfig()
	for k, v := range o.DynamicConfig {
		values[k] = v
	}
	dc = dynamicconfig.NewMemoryClient()
	for k, v := range values {
		dc.OverrideValue(dynamicconfig.MakeKey(k), v)
	}
	force := dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key()
	if _, set := values[force.String()]; set {
		return dc, func() {}
	}
	return dc, dc.OverrideValue(force, true)
}

// newTemporalServer builds (but does not start) a server running every
// service in this process, found through static host lists.
func newTemporalServer(o Options, p ports, stores persistence, dc dynamicconfig.Client, logger log.Logger) (temporal.Server, error) {
	conf := serverConfig(o, p, stores)
	authorizer, err := authorization.GetAuthorizerFromConfig(&conf.Global.Authorization)
	if err != nil {
		return nil, fmt.Errorf("create authorizer: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&conf.Global.Authorization, logger)
	if err != nil {
		return nil, fmt.Errorf("create claim mapper: %w", err)
	}
	host := func(port int) static.Hosts { return static.SingleLocalHost(hostPort(o.IP, port)) }
	srv, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(map[primitives.ServiceName]static.Hosts{
			primitives.FrontendService: host(p.frontend),
			primitives.HistoryService:  host(p.history),
			primitives.MatchingService: host(p.matching),
			primitives.WorkerService:   host(p.worker),
		}),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dc),
	)
	if err != nil {
		return nil, fmt.Errorf("create temporal server: %w", err)
	}
	return srv, nil
}

// serverConfig is the static server config: no metrics or pprof listeners,
// archival off, one cluster, everything bound to o.IP.
func serverConfig(o Options, p ports, stores persistence) *config.Config {
	var conf config.Config
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = o.IP
	conf.Persistence.DefaultStore = stores.main.name
	conf.Persistence.VisibilityStore = stores.visibility.name
	conf.Persistence.NumHistoryShards = o.NumHistoryShards
	conf.Persistence.DataStores = map[string]config.DataStore{
		stores.main.name:       {SQL: stores.main.sql},
		stores.visibility.name: {SQL: stores.visibility.sql},
	}

	frontend := hostPort(o.IP, p.frontend)
	var httpAddr string
	if p.http > 0 {
		httpAddr = hostPort(o.IP, p.http)
	}
	conf.ClusterMetadata = &cluster.Config{
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             frontend,
				HTTPAddress:            httpAddr,
			},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	service := func(port int) config.Service {
		return config.Service{RPC: config.RPC{GRPCPort: port, BindOnIP: o.IP}}
	}
	fe := service(p.frontend)
	fe.RPC.HTTPPort = p.http
	conf.Services = map[string]config.Service{
		string(primitives.FrontendService): fe,
		string(primitives.HistoryService):  service(p.history),
		string(primitives.MatchingService): service(p.matching),
		string(primitives.WorkerService):   service(p.worker),
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = frontend
	return &conf
}
