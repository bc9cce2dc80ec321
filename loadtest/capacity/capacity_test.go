package capacity

import (
	"math"
	"testing"
)

// TestDeliveriesPerCore: the figure follows the two it is derived from, so
// a change to one of them is carried to it (the dashboard draws all three).
func TestDeliveriesPerCore(t *testing.T) {
	if got := float64(PodDeliveries) / PodCPU; math.Abs(got-DeliveriesPerCore) > 0.01*DeliveriesPerCore {
		t.Errorf("PodDeliveries / PodCPU = %.0f, but DeliveriesPerCore = %d: more than 1 %% apart", got, DeliveriesPerCore)
	}
}
