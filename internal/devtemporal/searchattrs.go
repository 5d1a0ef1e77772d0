package devtemporal

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// registerTimeout bounds search attribute registration when the caller's
// context has no deadline.
const registerTimeout = 30 * time.Second

// searchAttributeCacheTTL outlasts the minute for which each service of the
// server caches the search attributes (cacheRefreshInterval in
// go.temporal.io/server/common/searchattribute).
const searchAttributeCacheTTL = 70 * time.Second

// registerSearchAttributes makes sure namespace has every attribute of want
// with its type. A new namespace already got them in prepareDatabase; this
// covers a database made before an attribute was added to hookd, and it
// costs one List call when nothing is missing. It reports whether it added
// any.
func registerSearchAttributes(ctx context.Context, frontend, namespace string, want map[string]enumspb.IndexedValueType) (added bool, err error) {
	if len(want) == 0 {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, registerTimeout)
	defer cancel()
	conn, err := grpc.NewClient(frontend, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return false, fmt.Errorf("register search attributes: %w", err)
	}
	defer func() { _ = conn.Close() }()
	op := operatorservice.NewOperatorServiceClient(conn)

	for attempt := 0; ; attempt++ {
		var have *operatorservice.ListSearchAttributesResponse
		err := retryUnavailable(ctx, func() (err error) {
			have, err = op.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
			return err
		})
		if err != nil {
			return false, fmt.Errorf("list search attributes: %w", err)
		}
		missing, err := missingSearchAttributes(have.GetCustomAttributes(), want)
		if err != nil || len(missing) == 0 {
			return false, err
		}
		_, err = op.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
			Namespace:        namespace,
			SearchAttributes: missing,
		})
		if status.Code(err) == codes.AlreadyExists && attempt == 0 {
			continue // another caller added some meanwhile: compare again
		}
		if err != nil {
			return false, fmt.Errorf("add search attributes %v: %w", slices.Sorted(maps.Keys(missing)), err)
		}
		return true, nil
	}
}

// missingSearchAttributes returns the attributes of want that have lacks, or
// an error naming each attribute have holds with another type (a type cannot
// be changed in place).
func missingSearchAttributes(have, want map[string]enumspb.IndexedValueType) (map[string]enumspb.IndexedValueType, error) {
	missing := map[string]enumspb.IndexedValueType{}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(want)) {
		t, ok := have[name]
		switch {
		case !ok:
			missing[name] = want[name]
		case t != want[name]:
			errs = append(errs, fmt.Errorf("search attribute %s is registered as %s, want %s", name, t, want[name]))
		}
	}
	return missing, errors.Join(errs...)
}

// retryUnavailable calls f until it returns anything but Unavailable (the
// frontend can still be warming up right after start) or ctx ends.
func retryUnavailable(ctx context.Context, f func() error) error {
	for {
		err := f()
		if status.Code(err) != codes.Unavailable {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
