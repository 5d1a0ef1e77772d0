package api

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hookd/hookd/internal/store"
)

// replayer starts, reads and cancels replays (API.md "Replays").
type replayer interface {
	// StartReplay records a replay of the organization's deliveries that f matches, at
	// ratePerSecond, and starts its workflow; it answers the replay with Matched counted.
	StartReplay(ctx context.Context, orgID string, f store.ReplayFilter, ratePerSecond int) (store.Replay, error)
	GetReplay(ctx context.Context, orgID, id string) (store.Replay, error)
	ListReplays(ctx context.Context, orgID string, p store.Page) ([]store.Replay, string, error)
	// CancelReplay stops a running replay; store.ErrConflict (wrapped) for a finished one.
	CancelReplay(ctx context.Context, orgID, id string) (store.Replay, error)
}

// Skeleton handlers: filled in by the replays work of issue 9.
func (s *server) createReplay(c *gin.Context) {
	fail(c, errorf(http.StatusNotImplemented, "replays are not built yet"))
}
func (s *server) listReplays(c *gin.Context) {
	fail(c, errorf(http.StatusNotImplemented, "replays are not built yet"))
}
func (s *server) getReplay(c *gin.Context) {
	fail(c, errorf(http.StatusNotImplemented, "replays are not built yet"))
}
func (s *server) cancelReplay(c *gin.Context) {
	fail(c, errorf(http.StatusNotImplemented, "replays are not built yet"))
}
