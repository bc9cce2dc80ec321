package k8s

import (
	"testing"
)

// TestEveryObjectValidates renders every overlay and validates every object in it.
func TestEveryObjectValidates(t *testing.T) {
	for _, overlay := range overlayNames(t) {
		t.Run(overlay, func(t *testing.T) {
			objects := render(t, overlay)
			if len(objects) == 0 {
				t.Fatal("rendered nothing")
			}
			for _, obj := range objects {
				if err := validateObject(obj); err != nil {
					t.Error(err)
				}
			}
		})
	}
}
