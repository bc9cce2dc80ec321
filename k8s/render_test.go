package k8s

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// overlaysDir holds one directory per environment; every one is rendered and checked.
const overlaysDir = "overlays"

// overlayNames lists the environments in overlays/, so a new one cannot escape the tests.
func overlayNames(t testing.TB) []string {
	t.Helper()
	entries, err := os.ReadDir(overlaysDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		t.Fatalf("no overlays in %s", overlaysDir)
	}
	return names
}

// rendered caches each overlay's objects: rendering is pure, and many tests read them.
var rendered sync.Map // overlay name -> renderResult

type renderResult struct {
	objects []map[string]any
	err     error
}

// render builds an overlay with kustomize's library, with kubectl's defaults, and returns a
// fresh deep copy of its objects, which the caller may change.
func render(t testing.TB, overlay string) []map[string]any {
	t.Helper()
	v, ok := rendered.Load(overlay)
	if !ok {
		objects, err := build(filepath.Join(overlaysDir, overlay))
		v, _ = rendered.LoadOrStore(overlay, renderResult{objects, err})
	}
	r := v.(renderResult)
	if r.err != nil {
		t.Fatalf("kustomize build %s: %v", overlay, r.err)
	}
	copies := make([]map[string]any, len(r.objects))
	for i, o := range r.objects {
		copies[i] = runtime.DeepCopyJSON(o)
	}
	return copies
}

// build runs kustomize on dir.
func build(dir string) ([]map[string]any, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resources, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, err
	}
	var objects []map[string]any
	for _, r := range resources.Resources() {
		// Through JSON, so numbers become int64 or float64 as an API server's decoder makes them.
		y, err := r.AsYAML()
		if err != nil {
			return nil, err
		}
		data, err := yaml.YAMLToJSON(y)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.CurId(), err)
		}
		var m map[string]any
		if err := utiljson.Unmarshal(data, &m); err != nil {
			return nil, err
		}
		objects = append(objects, m)
	}
	return objects, nil
}
