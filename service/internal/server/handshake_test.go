package server

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHandshakeRefusal(t *testing.T) {
	tests := []struct {
		name      string
		major     int
		minor     int
		protocols string // Sec-WebSocket-Protocol, "" for none
		want      int
	}{
		{"HTTP/1.1, nothing offered", 1, 1, "", 0},
		{"HTTP/1.1, v1 offered", 1, 1, "wsgateway.v1", 0},
		{"HTTP/1.1, v1 among others", 1, 1, "mqtt, wsgateway.v1", 0},
		{"HTTP/1.1, only unknown offered", 1, 1, "wsgateway.v2, mqtt", http.StatusBadRequest},
		{"HTTP/1.1, case differs", 1, 1, "WSGATEWAY.V1", http.StatusBadRequest},
		{"HTTP/1.0", 1, 0, "wsgateway.v1", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/ws", nil)
			r.ProtoMajor, r.ProtoMinor = tt.major, tt.minor
			if tt.protocols != "" {
				r.Header.Set("Sec-WebSocket-Protocol", tt.protocols)
			}
			if got, why := handshakeRefusal(r); got != tt.want {
				t.Errorf("handshakeRefusal = %d %q, want %d", got, why, tt.want)
			}
		})
	}
}
