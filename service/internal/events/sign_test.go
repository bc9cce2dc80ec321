package events

import (
	"testing"

	"github.com/wsgateway/wsgateway/service/internal/config"
)

// The published Standard Webhooks test vector (standard-webhooks spec and
// every reference library's tests): a receiver's stock library accepts what
// we send only if this matches exactly.
func TestSignMatchesTheStandardWebhooksVector(t *testing.T) {
	key, err := config.WebhookKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
}
