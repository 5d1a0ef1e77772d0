package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// consoleCSP allows the console its own scripts, styles and API only: no inline code, no
// other host, no framing.
const consoleCSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// consoleHeaders sets the security headers of every answer under /console. The session's
// answers are not to be cached (no-store); the assets set their own Cache-Control.
func consoleHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", consoleCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
}

// consoleFile is one embedded asset, ready to serve.
type consoleFile struct {
	body        []byte
	etag        string
	contentType string
}

// loadConsoleAssets reads every file of assets (console.Assets()) into memory, keyed by
// its path; they are embedded in the binary, so this cannot go stale.
func loadConsoleAssets(assets fs.FS) (map[string]consoleFile, error) {
	files := map[string]consoleFile{}
	err := fs.WalkDir(assets, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(assets, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ctype := mime.TypeByExtension(path.Ext(name))
		if ctype == "" {
			ctype = http.DetectContentType(body)
		}
		files[name] = consoleFile{body: body, etag: `"` + hex.EncodeToString(sum[:16]) + `"`, contentType: ctype}
		return nil
	})
	return files, err
}

// serveConsoleFile answers an embedded asset with its type and ETag. Assets are not
// fingerprinted, so browsers revalidate them each time (no-cache) and get a 304 while the
// binary is the same.
func (s *server) serveConsoleFile(c *gin.Context, name string) {
	f, ok := s.consoleFiles[name]
	if !ok {
		fail(c, errorf(http.StatusNotFound, "the console has no file %q", name))
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", f.etag)
	http.ServeContent(c.Writer, c.Request, name, time.Time{}, bytes.NewReader(f.body))
}

// consoleIndex answers GET /console: the single-page console (hash routing).
func (s *server) consoleIndex(c *gin.Context) { s.serveConsoleFile(c, "index.html") }

// consoleStatic answers GET /console/static/*path from the embedded web/static/.
func (s *server) consoleStatic(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("path"), "/")
	if name == "" || !fs.ValidPath(name) {
		fail(c, errorf(http.StatusNotFound, "the console has no file %q", name))
		return
	}
	s.serveConsoleFile(c, "static/"+name)
}

// redirectConsole sends /console/ to /console.
func redirectConsole(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/console") }
