package demo

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandlerServesThePageAndTheScript(t *testing.T) {
	h := Handler()
	for _, tc := range []struct {
		method, path string
		status       int
		contentType  string
		bodyHas      string
	}{
		{"GET", "/", 200, "text/html; charset=utf-8", `<script src="/wsgateway.min.js">`},
		{"GET", "/wsgateway.min.js", 200, "text/javascript; charset=utf-8", "WSGateway"},
		{"HEAD", "/", 200, "text/html; charset=utf-8", ""},
		{"GET", "/index.html", 404, "", ""},
		{"GET", "/other.js", 404, "", ""},
		{"POST", "/", 405, "", ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
			body := w.Body.String()
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d (%q)", w.Code, tc.status, body)
			}
			if tc.status != 200 {
				return
			}
			if got := w.Header().Get("Content-Type"); got != tc.contentType {
				t.Errorf("Content-Type %q, want %q", got, tc.contentType)
			}
			if w.Header().Get("ETag") == "" || w.Header().Get("Cache-Control") != "no-cache" {
				t.Errorf("cache headers: ETag %q, Cache-Control %q; want an ETag and no-cache",
					w.Header().Get("ETag"), w.Header().Get("Cache-Control"))
			}
			if tc.method == "HEAD" && body != "" {
				t.Errorf("HEAD answered a body of %d bytes", len(body))
			}
			if !strings.Contains(body, tc.bodyHas) {
				t.Errorf("body does not contain %q", tc.bodyHas)
			}
		})
	}
}

func TestHandlerRevalidatesWithTheETag(t *testing.T) {
	h := Handler()
	first := httptest.NewRecorder()
	h.ServeHTTP(first, httptest.NewRequest("GET", "/wsgateway.min.js", nil))
	etag := first.Header().Get("ETag")

	again := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/wsgateway.min.js", nil)
	r.Header.Set("If-None-Match", etag)
	h.ServeHTTP(again, r)
	if again.Code != http.StatusNotModified || again.Body.Len() != 0 {
		t.Errorf("If-None-Match %s: status %d with %d bytes, want 304 and none", etag, again.Code, again.Body.Len())
	}

	page := httptest.NewRecorder()
	h.ServeHTTP(page, httptest.NewRequest("GET", "/", nil))
	if page.Header().Get("ETag") == etag {
		t.Errorf("the page and the script share the ETag %s", etag)
	}
}

// TestPageUsesTheContractIDs keeps the ids the browser test and users'
// scripts rely on (CONTRACT.md section 8: state, message box, send button,
// messages).
func TestPageUsesTheContractIDs(t *testing.T) {
	f, err := files.Open("index.html")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	page, _ := io.ReadAll(f)
	for _, id := range []string{`id="state"`, `id="message"`, `id="send"`, `id="messages"`, `id="room"`, `id="presence"`} {
		if !strings.Contains(string(page), id) {
			t.Errorf("index.html has no %s", id)
		}
	}
}
