package k8s

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// kedaCRDFile is KEDA's ScaledObject CRD, copied from its Go module (testdata/keda/README.md).
const kedaCRDFile = "testdata/keda/keda.sh_scaledobjects.yaml"

// kedaCRDs loads KEDA's CRDs once per test binary.
var kedaCRDs = sync.OnceValues(func() (*crdSet, error) {
	f, err := os.Open(filepath.FromSlash(kedaCRDFile))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readCRDs(f)
})

// validateKEDA checks a KEDA object against its CRD, as the API server with KEDA installed would.
func validateKEDA(gvk schema.GroupVersionKind, obj map[string]any) []error {
	set, err := kedaCRDs()
	if err != nil {
		return []error{err}
	}
	return validateAgainst(set, gvk, obj)
}

// scaledObject is the part of a KEDA ScaledObject the invariants read (KEDA's Go types are not
// a dependency; validateKEDA checks the whole object against the CRD).
type scaledObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		ScaleTargetRef struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Name       string `json:"name"`
		} `json:"scaleTargetRef"`
		MinReplicaCount *int32 `json:"minReplicaCount"`
		MaxReplicaCount *int32 `json:"maxReplicaCount"`
		Triggers        []struct {
			Type     string            `json:"type"`
			Metadata map[string]string `json:"metadata"`
		} `json:"triggers"`
	} `json:"spec"`
}

// TestKEDACRDLoads keeps the copied CRD readable.
func TestKEDACRDLoads(t *testing.T) {
	set, err := kedaCRDs()
	if err != nil {
		t.Fatal(err)
	}
	gvk := schema.GroupVersionKind{Group: "keda.sh", Version: "v1alpha1", Kind: "ScaledObject"}
	if v, err := set.validator(gvk); err != nil || v == nil {
		t.Fatalf("%s: validator %v, error %v", gvk, v, err)
	}
}

// validateAgainst checks obj against the CRD of gvk in set: schema, unknown fields and CEL rules.
func validateAgainst(set *crdSet, gvk schema.GroupVersionKind, obj map[string]any) []error {
	v, err := set.validator(gvk)
	if err != nil {
		return []error{err}
	}
	if v == nil {
		return []error{fmt.Errorf("no CRD serves %s", gvk)}
	}
	return fieldErrors(v.validate(obj))
}
