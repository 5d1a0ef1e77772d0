package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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

// Cache-Control of the console's files: a versioned path's body never changes, any other
// answer is revalidated (ETag) each time.
const (
	cacheImmutable   = "public, max-age=31536000, immutable"
	cacheRevalidate  = "no-cache"
	staticPrefix     = "/console/static/"
	assetVersionSize = 12 // hex characters of the assets' SHA-256 in a versioned path
)

// consoleFile is one embedded asset, ready to serve.
type consoleFile struct {
	body         []byte
	etag         string
	contentType  string
	cacheControl string
}

// loadConsoleAssets reads every file of assets (console.Assets()) into memory, keyed by
// its path; they are embedded in the binary, so this cannot go stale. Each file under
// static/ is there twice: "static/<name>", answered with no-cache, and
// "static/<version>/<name>", cached for a year as immutable, where <version> is the first
// 12 hex characters of the SHA-256 of every static file's name and body. index.html's
// links to /console/static/ are rewritten to the versioned path, and the console's
// relative module imports inherit it, so a browser loads each asset once per build.
func loadConsoleAssets(assets fs.FS) (map[string]consoleFile, error) {
	bodies := map[string][]byte{}
	var names []string
	all := sha256.New()
	err := fs.WalkDir(assets, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(assets, name)
		if err != nil {
			return err
		}
		bodies[name] = body
		names = append(names, name) // lexical order (fs.WalkDir)
		if strings.HasPrefix(name, "static/") {
			fmt.Fprintf(all, "%d:%s%d:", len(name), name, len(body))
			all.Write(body)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	version := hex.EncodeToString(all.Sum(nil))[:assetVersionSize]
	files := map[string]consoleFile{}
	for _, name := range names {
		body := bodies[name]
		if name == "index.html" {
			body = bytes.ReplaceAll(body, []byte(staticPrefix), []byte(staticPrefix+version+"/"))
		}
		f := newConsoleFile(name, body, cacheRevalidate)
		files[name] = f
		if rest, ok := strings.CutPrefix(name, "static/"); ok {
			f.cacheControl = cacheImmutable
			files["static/"+version+"/"+rest] = f
		}
	}
	return files, nil
}

// newConsoleFile is body ready to serve as name, with an ETag of its SHA-256.
func newConsoleFile(name string, body []byte, cacheControl string) consoleFile {
	sum := sha256.Sum256(body)
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = http.DetectContentType(body)
	}
	return consoleFile{body: body, etag: `"` + hex.EncodeToString(sum[:16]) + `"`, contentType: ctype, cacheControl: cacheControl}
}

// serveConsoleFile answers an embedded asset with its type, ETag and Cache-Control.
func (s *server) serveConsoleFile(c *gin.Context, name string) {
	f, ok := s.consoleFiles[name]
	if !ok {
		fail(c, errorf(http.StatusNotFound, "the console has no file %q", name))
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", f.cacheControl)
	h.Set("ETag", f.etag)
	http.ServeContent(c.Writer, c.Request, name, time.Time{}, bytes.NewReader(f.body))
}

// consoleIndex answers GET /console: the single-page console (hash routing).
func (s *server) consoleIndex(c *gin.Context) { s.serveConsoleFile(c, "index.html") }

// consoleStatic answers GET /console/static/*path from the embedded web/static/: under
// this build's version (index.html's links) cached as immutable; unversioned, or under
// another build's version (a page loaded before an upgrade), this build's file with
// no-cache, so it is never kept as that version's; 404 when there is no such file.
func (s *server) consoleStatic(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("path"), "/")
	if name == "" || !fs.ValidPath(name) {
		fail(c, errorf(http.StatusNotFound, "the console has no file %q", name))
		return
	}
	if _, ok := s.consoleFiles["static/"+name]; !ok {
		if version, rest, ok := strings.Cut(name, "/"); ok && isAssetVersion(version) {
			name = rest
		}
	}
	s.serveConsoleFile(c, "static/"+name)
}

// isAssetVersion reports whether v has the shape of a version: 12 lowercase hex digits.
func isAssetVersion(v string) bool {
	if len(v) != assetVersionSize {
		return false
	}
	_, err := hex.DecodeString(v)
	return err == nil && strings.ToLower(v) == v
}

// redirectConsole sends /console/ to /console.
func redirectConsole(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/console") }
