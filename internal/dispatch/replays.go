package dispatch

import (
	"context"
	"errors"

	"github.com/hookd/hookd/internal/store"
)

var errReplaysNotBuilt = errors.New("replays are not built yet")

// StartReplay records a replay of the organization's deliveries that f matches and
// starts its workflow. Skeleton: filled in by the replays work of issue 9.
func (s *Service) StartReplay(ctx context.Context, orgID string, f store.ReplayFilter, ratePerSecond int) (store.Replay, error) {
	return store.Replay{}, errReplaysNotBuilt
}

// GetReplay reads the organization's replay id with its progress.
func (s *Service) GetReplay(ctx context.Context, orgID, id string) (store.Replay, error) {
	return store.Replay{}, errReplaysNotBuilt
}

// ListReplays lists the organization's replays, newest first.
func (s *Service) ListReplays(ctx context.Context, orgID string, p store.Page) ([]store.Replay, string, error) {
	return nil, "", errReplaysNotBuilt
}

// CancelReplay stops the organization's running replay id.
func (s *Service) CancelReplay(ctx context.Context, orgID, id string) (store.Replay, error) {
	return store.Replay{}, errReplaysNotBuilt
}
