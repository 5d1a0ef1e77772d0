// Package searchattr makes sure a Temporal namespace has the custom search attributes
// hookd sets on its workflows (workflows.SearchAttributeTypes), with their types. It is
// the one implementation behind every place that checks them: `hookd api`, `hookd worker`
// and `hookd serve` at start, `hookd migrate`, and the embedded dev server
// (internal/devtemporal). It talks to the namespace through Temporal's OperatorService
// (ListSearchAttributes, AddSearchAttributes), which the SDK client's OperatorService()
// and a plain gRPC connection to a frontend both provide.
//
// A missing attribute is registered when the server lets hookd; when it does not
// (Temporal Cloud answers PermissionDenied: attributes are added there with tcld or in
// the Cloud UI), Ensure fails with the exact command an operator runs once.
//
// A registration is not usable the moment it is made: the frontend maps an attribute's
// name to its column through its namespace cache, refreshed every couple of seconds
// (system.namespaceCacheRefreshInterval), and until then it refuses a workflow that sets
// the attribute. So Ensure, after registering, waits until a visibility query naming
// the new attributes is accepted.
package searchattr

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
)

// Client is the part of Temporal's OperatorService and WorkflowService Ensure uses: see
// FromSDK and FromConn.
type Client interface {
	ListSearchAttributes(ctx context.Context, in *operatorservice.ListSearchAttributesRequest, opts ...grpc.CallOption) (*operatorservice.ListSearchAttributesResponse, error)
	AddSearchAttributes(ctx context.Context, in *operatorservice.AddSearchAttributesRequest, opts ...grpc.CallOption) (*operatorservice.AddSearchAttributesResponse, error)
	CountWorkflowExecutions(ctx context.Context, in *workflowservice.CountWorkflowExecutionsRequest, opts ...grpc.CallOption) (*workflowservice.CountWorkflowExecutionsResponse, error)
}

// services is both services of a frontend.
type services struct {
	operatorservice.OperatorServiceClient
	workflowservice.WorkflowServiceClient
}

// FromSDK is the Client of an SDK client's connection.
func FromSDK(c client.Client) Client { return services{c.OperatorService(), c.WorkflowService()} }

// FromConn is the Client of a gRPC connection to a frontend.
func FromConn(conn grpc.ClientConnInterface) Client {
	return services{operatorservice.NewOperatorServiceClient(conn), workflowservice.NewWorkflowServiceClient(conn)}
}

// Namespace is the namespace whose attributes Ensure checks, on the frontend Client
// reaches.
type Namespace struct {
	Client Client
	Name   string
	// Address (host:port), TLS and APIKey describe how the frontend is reached, only for
	// the command an error tells the operator to run.
	Address     string
	TLS, APIKey bool
}

// Timeout bounds Ensure when its context has no deadline: a frontend that is still
// starting answers Unavailable for a while, and Ensure asks again until then.
const Timeout = 30 * time.Second

// addTries bounds the rounds of list-then-add that lose a race with another process
// adding the same attributes (AlreadyExists, or SQL visibility's Unavailable
// "Generated search attributes mapping unavailable").
const addTries = 5

// Ensure makes sure ns has every attribute of want with its type, and returns the names
// of those it registered (none when all were there: one ListSearchAttributes call).
// After registering it waits until ListSearchAttributes shows them and the frontend
// accepts a query naming them.
//
// Its errors: an attribute registered with another type is an error naming it (a type
// cannot be changed in place); missing attributes hookd may not register (any error of
// AddSearchAttributes, e.g. PermissionDenied) are a *MissingError, whose message holds
// the commands that register them.
func Ensure(ctx context.Context, ns Namespace, want map[string]enumspb.IndexedValueType) (added []string, err error) {
	if len(want) == 0 {
		return nil, nil
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, Timeout)
		defer cancel()
	}
	for try := 1; ; try++ {
		missing, err := compare(ctx, ns, want)
		if err != nil || len(missing) == 0 {
			return nil, err
		}
		_, err = ns.Client.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
			Namespace:        ns.Name,
			SearchAttributes: missing,
		})
		if c := code(err); (c == codes.AlreadyExists || c == codes.Unavailable) && try < addTries {
			continue // another process is adding them too: compare again
		}
		if err != nil {
			return nil, &MissingError{Namespace: ns, Missing: missing, Err: err}
		}
		names := slices.Sorted(maps.Keys(missing))
		return names, waitVisible(ctx, ns, want, names)
	}
}

// compare lists ns's attributes and returns those of want it lacks.
func compare(ctx context.Context, ns Namespace, want map[string]enumspb.IndexedValueType) (map[string]enumspb.IndexedValueType, error) {
	var have *operatorservice.ListSearchAttributesResponse
	err := retryUnavailable(ctx, func() (err error) {
		have, err = ns.Client.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: ns.Name})
		return err
	})
	if err != nil {
		var notFound *serviceerror.NamespaceNotFound
		if errors.As(err, &notFound) {
			return nil, fmt.Errorf("namespace %s does not exist on this Temporal server (TEMPORAL_NAMESPACE): create it, e.g. `temporal operator namespace create --namespace %s --retention 7d`: %w", ns.Name, ns.Name, err)
		}
		return nil, fmt.Errorf("list the search attributes of namespace %s: %w", ns.Name, err)
	}
	return Missing(have.GetCustomAttributes(), want)
}

// waitVisible lists ns's attributes until every one of want shows, then counts
// workflows with a query naming the added ones until the frontend accepts it (it answers
// InvalidArgument while its namespace cache lacks them), or ctx ends.
func waitVisible(ctx context.Context, ns Namespace, want map[string]enumspb.IndexedValueType, added []string) error {
	var terms []string
	for _, name := range added {
		terms = append(terms, fmt.Sprintf("%s IS NULL", name))
	}
	// WorkflowId narrows the count to nothing at once, however many workflows there are.
	query := "WorkflowId = 'hookd-search-attribute-check' AND " + strings.Join(terms, " AND ")
	for {
		missing, err := compare(ctx, ns, want)
		if err != nil {
			return err
		}
		if len(missing) == 0 {
			_, err = ns.Client.CountWorkflowExecutions(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: ns.Name, Query: query})
			if err == nil {
				return nil
			}
			if c := code(err); c != codes.InvalidArgument && c != codes.Unavailable {
				return fmt.Errorf("check the search attributes of namespace %s: %w", ns.Name, err)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("search attributes %s registered in namespace %s but not usable yet: %w (last: %v)",
				strings.Join(added, ", "), ns.Name, ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Missing returns the attributes of want that have lacks, or an error naming each
// attribute have holds with another type.
func Missing(have, want map[string]enumspb.IndexedValueType) (map[string]enumspb.IndexedValueType, error) {
	missing := map[string]enumspb.IndexedValueType{}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(want)) {
		t, ok := have[name]
		switch {
		case !ok:
			missing[name] = want[name]
		case t != want[name]:
			errs = append(errs, fmt.Errorf("search attribute %s is registered as %s, want %s (a registered type cannot be changed: remove it or use another namespace)", name, t, want[name]))
		}
	}
	return missing, errors.Join(errs...)
}

// retryUnavailable calls f until it returns anything but Unavailable (the frontend can
// still be warming up right after start) or ctx ends.
func retryUnavailable(ctx context.Context, f func() error) error {
	for {
		err := f()
		if code(err) != codes.Unavailable {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// code is err's gRPC code, whether it came from a plain gRPC client or the SDK's (which
// turns statuses into serviceerror values).
func code(err error) codes.Code { return serviceerror.ToStatus(err).Code() }

// MissingError is search attributes a namespace lacks that could not be registered.
type MissingError struct {
	Namespace Namespace
	Missing   map[string]enumspb.IndexedValueType
	Err       error // AddSearchAttributes's answer
}

func (e *MissingError) Error() string {
	names := slices.Sorted(maps.Keys(e.Missing))
	var b strings.Builder
	fmt.Fprintf(&b, "search attributes %s are missing in Temporal namespace %s and hookd may not register them (%v); register them once, then start hookd again:\n  %s",
		strings.Join(names, ", "), e.Namespace.Name, e.Err, e.Command())
	fmt.Fprintf(&b, "\nor, on Temporal Cloud:\n  tcld namespace search-attributes add --namespace %s", e.Namespace.Name)
	for _, n := range names {
		fmt.Fprintf(&b, " --search-attribute %s=%s", n, e.Missing[n])
	}
	return b.String()
}

func (e *MissingError) Unwrap() error { return e.Err }

// Command is the Temporal CLI command that registers the missing attributes.
func (e *MissingError) Command() string {
	ns := e.Namespace
	cmd := []string{"temporal operator search-attribute create"}
	if ns.Address != "" {
		cmd = append(cmd, "--address "+ns.Address)
	}
	if ns.TLS || ns.APIKey {
		cmd = append(cmd, "--tls")
	}
	if ns.APIKey {
		cmd = append(cmd, `--api-key "$TEMPORAL_API_KEY"`)
	}
	cmd = append(cmd, "--namespace "+ns.Name)
	for _, n := range slices.Sorted(maps.Keys(e.Missing)) {
		cmd = append(cmd, "--name "+n, "--type "+e.Missing[n].String())
	}
	return strings.Join(cmd, " ")
}
