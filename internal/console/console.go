// Package console holds the web console's assets (issue 13), embedded in the binary: the
// API serves them at /console. Nothing is loaded from another host or built at run time.
package console

import (
	"embed"
	"io/fs"
)

//go:embed all:web
var assets embed.FS

// Assets is the console's files, rooted at web/ (index.html at the top).
func Assets() fs.FS {
	sub, err := fs.Sub(assets, "web")
	if err != nil {
		panic(err) // web/ is embedded above: cannot fail
	}
	return sub
}
