package devtemporal

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/hookd/hookd/internal/searchattr"
)

// searchAttributeCacheTTL outlasts the minute for which each service of the
// server caches the search attributes (cacheRefreshInterval in
// go.temporal.io/server/common/searchattribute).
const searchAttributeCacheTTL = 70 * time.Second

// registerSearchAttributes makes sure namespace has every attribute of want
// with its type, through the server's own frontend, the way hookd checks any
// namespace (searchattr.Ensure). A new namespace already got them in
// prepareDatabase; this covers a database made before an attribute was added
// to hookd, and it costs one List call when nothing is missing. It reports
// whether it added any.
func registerSearchAttributes(ctx context.Context, frontend, namespace string, want map[string]enumspb.IndexedValueType) (added bool, err error) {
	if len(want) == 0 {
		return false, nil
	}
	conn, err := grpc.NewClient(frontend, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return false, fmt.Errorf("register search attributes: %w", err)
	}
	defer func() { _ = conn.Close() }()
	names, err := searchattr.Ensure(ctx, searchattr.Namespace{
		Client:  searchattr.FromConn(conn),
		Name:    namespace,
		Address: frontend,
	}, want)
	return len(names) > 0, err
}
