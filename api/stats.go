package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// statsReader reads delivery statistics (API.md "Statistics"). Skeleton: the statistics
// work of issue 9 declares its methods and *store.Store implements them.
type statsReader interface{}

// Skeleton handlers: filled in by the statistics work of issue 9.
func (s *server) getStats(c *gin.Context) {
	fail(c, errorf(http.StatusNotImplemented, "statistics are not built yet"))
}
func (s *server) getTimeseries(c *gin.Context) {
	fail(c, errorf(http.StatusNotImplemented, "statistics are not built yet"))
}
