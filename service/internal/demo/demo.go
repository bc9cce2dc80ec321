// Package demo owns the demo chat page that a node serves on its client port
// in --dev: index.html at GET / and the JavaScript client's single-script
// build at GET /wsgateway.min.js. Both are embedded, so `go build` needs no
// Node; wsgateway.min.js is written by the JavaScript library's build
// (clients/js), whose tests fail when the copy here is stale.
package demo

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"time"
)

//go:embed index.html wsgateway.min.js
var files embed.FS

// asset is one embedded file, ready to serve.
type asset struct {
	name        string
	body        []byte
	contentType string
	etag        string // strong: a hash of the body
}

// routes maps each served path to its file.
var routes = map[string]struct{ file, contentType string }{
	"/":                 {"index.html", "text/html; charset=utf-8"},
	"/wsgateway.min.js": {"wsgateway.min.js", "text/javascript; charset=utf-8"},
}

// Handler serves the page and the script; any other path is 404 and any
// method but GET and HEAD is 405. Responses carry an ETag and
// "Cache-Control: no-cache", so a browser revalidates every time and a
// rebuilt node never leaves it on a stale script.
func Handler() http.Handler {
	assets := make(map[string]asset, len(routes))
	for path, r := range routes {
		body, err := files.ReadFile(r.file)
		if err != nil {
			panic("demo: " + r.file + " is not embedded: " + err.Error()) // go:embed guarantees it
		}
		sum := sha256.Sum256(body)
		assets[path] = asset{name: r.file, body: body, contentType: r.contentType, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := assets[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("ETag", a.etag)
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Type", a.contentType)
		h.Set("X-Content-Type-Options", "nosniff")
		// ServeContent answers If-None-Match with 304, HEAD without a body,
		// and sets Content-Length.
		http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.body))
	})
}
