package api

import (
	"context"
	_ "embed"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// openAPI is the API's reference document (OpenAPI 3.1), served at /openapi.yaml.
//
//go:embed openapi.yaml
var openAPI []byte

// OpenAPI returns the embedded OpenAPI document, for tools and tests.
func OpenAPI() []byte {
	return append([]byte(nil), openAPI...)
}

func serveOpenAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/yaml", openAPI)
}

// healthz answers 200 while the process serves requests.
func (s *server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyTimeout bounds each dependency check of /readyz.
const readyTimeout = 3 * time.Second

// readyz answers 200 when PostgreSQL and Temporal both answer, 503 naming the ones that
// do not (their errors are logged, not shown).
func (s *server) readyz(c *gin.Context) {
	checks := []struct {
		name  string
		check func(context.Context) error
	}{
		{"postgres", s.store.Ping},
		{"temporal", s.svc.Ready},
	}
	failed := make([]string, len(checks))
	var wg sync.WaitGroup
	for i, chk := range checks {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
			defer cancel()
			if err := chk.check(ctx); err != nil {
				s.log.WarnContext(ctx, "readiness check failed", "dependency", chk.name, "err", err)
				failed[i] = chk.name
			}
		})
	}
	wg.Wait()
	var down []string
	for _, name := range failed {
		if name != "" {
			down = append(down, name)
		}
	}
	if len(down) > 0 {
		fail(c, errorf(http.StatusServiceUnavailable, "not ready: %s unreachable", strings.Join(down, " and ")))
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}
