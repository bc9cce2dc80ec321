package k8s

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// kubeScoreIgnored are kube-score checks that do not fit this bundle, with the reason.
var kubeScoreIgnored = map[string]string{
	// Images are pinned to a version (checkImages), so IfNotPresent always gets the right one.
	"container-image-pull-policy": "pinned images",
	// Topology spread constraints over hosts and zones do this job (checkTopologySpread).
	"deployment-has-host-podantiaffinity": "topology spread",
}

// TestKubeScore runs kube-score over every rendered overlay when KUBE_SCORE names its binary;
// `make kube-score` installs the pinned version and runs this. Without it the test is skipped.
func TestKubeScore(t *testing.T) {
	bin := os.Getenv("KUBE_SCORE")
	if bin == "" {
		t.Skip("KUBE_SCORE is not set; make kube-score runs this test")
	}
	for _, overlay := range overlayNames(t) {
		t.Run(overlay, func(t *testing.T) {
			var manifest bytes.Buffer
			for _, obj := range render(t, overlay) {
				data, err := yaml.Marshal(obj)
				if err != nil {
					t.Fatal(err)
				}
				manifest.WriteString("---\n")
				manifest.Write(data)
			}
			file := filepath.Join(t.TempDir(), overlay+".yaml")
			if err := os.WriteFile(file, manifest.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"score", "--output-format", "ci", "--kubernetes-version", "v1.33", "--exit-one-on-warning"}
			for check := range kubeScoreIgnored {
				args = append(args, "--ignore-test", check)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, bin, append(args, file)...).CombinedOutput()
			if err != nil {
				t.Errorf("kube-score %s: %v\n%s", overlay, err, out)
			}
		})
	}
}
