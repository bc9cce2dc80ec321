package k8s

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
)

// istioCRDFile is where the istio.io/api module ships the CRDs that istioctl and the Helm
// charts install, for the version pinned in go.mod.
const istioCRDFile = "kubernetes/customresourcedefinitions.gen.yaml"

// crdValidator checks custom resources of one kind and version the way the API server does
// with the CRD installed: unknown fields (which the server would prune, and which here are
// errors), the OpenAPI schema, list-type invariants, embedded metadata and the CRD's
// x-kubernetes-validations (CEL) rules.
type crdValidator struct {
	structural *structuralschema.Structural
	schema     apiservervalidation.SchemaValidator
	cel        *cel.Validator // nil when the schema has no CEL rules
}

// validate returns every problem the API server would report for obj, plus the fields it
// would silently drop.
func (v *crdValidator) validate(obj map[string]any) field.ErrorList {
	obj = runtime.DeepCopyJSON(obj)
	var errs field.ErrorList
	_, _, unknown, err := objectmeta.GetObjectMetaWithOptions(obj, objectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: true})
	if err != nil {
		errs = append(errs, field.Invalid(field.NewPath("metadata"), nil, err.Error()))
	}
	opts := structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true}
	unknown = append(unknown, pruning.PruneWithOptions(obj, v.structural, true, opts)...)
	for _, path := range unknown {
		errs = append(errs, field.Forbidden(field.NewPath(path), "unknown field"))
	}
	defaulting.Default(obj, v.structural)
	errs = append(errs, apiservervalidation.ValidateCustomResource(nil, obj, v.schema)...)
	ctx := context.Background()
	errs = append(errs, objectmeta.Validate(ctx, nil, obj, v.structural, false)...)
	errs = append(errs, listtype.ValidateListSetsAndMaps(nil, v.structural, obj)...)
	if v.cel != nil {
		celErrs, _ := v.cel.Validate(ctx, nil, v.structural, obj, nil, celconfig.RuntimeCELCostBudget)
		errs = append(errs, celErrs...)
	}
	return errs
}

// crdSet holds the schemas of a set of CRDs and builds a validator per kind and version on
// first use (compiling a CRD's CEL rules takes a while, and most kinds are never used).
type crdSet struct {
	schemas map[schema.GroupVersionKind]*apiextensionsv1.JSONSchemaProps

	mu         sync.Mutex
	validators map[schema.GroupVersionKind]*crdValidator
}

// validator returns the validator for gvk, or nil when the set has no such CRD version.
func (s *crdSet) validator(gvk schema.GroupVersionKind) (*crdValidator, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.validators[gvk]; ok {
		return v, nil
	}
	props, ok := s.schemas[gvk]
	if !ok {
		return nil, nil
	}
	v, err := newCRDValidator(props)
	if err != nil {
		return nil, fmt.Errorf("CRD schema of %s: %w", gvk, err)
	}
	s.validators[gvk] = v
	return v, nil
}

// newCRDValidator converts a CRD version's schema as the API server does.
func newCRDValidator(props *apiextensionsv1.JSONSchemaProps) (*crdValidator, error) {
	var internal apiextensions.JSONSchemaProps
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(props, &internal, nil); err != nil {
		return nil, err
	}
	structural, err := structuralschema.NewStructural(&internal)
	if err != nil {
		return nil, err
	}
	sv, _, err := apiservervalidation.NewSchemaValidator(&internal)
	if err != nil {
		return nil, err
	}
	return &crdValidator{structural: structural, schema: sv, cel: cel.NewValidator(structural, true, celconfig.PerCallLimit)}, nil
}

// istioCRDs loads Istio's CRDs once per test binary.
var istioCRDs = sync.OnceValues(func() (*crdSet, error) {
	dir, err := moduleDir("istio.io/api")
	if err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(dir, istioCRDFile))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readCRDs(f)
})

// readCRDs reads a stream of YAML CRDs: every served version of each.
func readCRDs(r io.Reader) (*crdSet, error) {
	set := &crdSet{
		schemas:    map[schema.GroupVersionKind]*apiextensionsv1.JSONSchemaProps{},
		validators: map[schema.GroupVersionKind]*crdValidator{},
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(r, 4096)
	for {
		var crd apiextensionsv1.CustomResourceDefinition
		if err := dec.Decode(&crd); err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		if crd.Kind != "CustomResourceDefinition" {
			continue
		}
		for _, v := range crd.Spec.Versions {
			if v.Served && v.Schema != nil && v.Schema.OpenAPIV3Schema != nil {
				gvk := schema.GroupVersionKind{Group: crd.Spec.Group, Version: v.Name, Kind: crd.Spec.Names.Kind}
				set.schemas[gvk] = v.Schema.OpenAPIV3Schema
			}
		}
	}
	if len(set.schemas) == 0 {
		return nil, fmt.Errorf("no CRDs found")
	}
	return set, nil
}

// moduleDir is where the go command keeps a module of the build list (go.mod's version).
func moduleDir(path string) (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", path).Output()
	if err != nil {
		return "", fmt.Errorf("go list -m %s: %w", path, err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", fmt.Errorf("go list -m %s: module not downloaded", path)
	}
	return dir, nil
}

// TestIstioCRDsLoad keeps the CRD file's location honest when istio.io/api is bumped.
func TestIstioCRDsLoad(t *testing.T) {
	set, err := istioCRDs()
	if err != nil {
		t.Fatal(err)
	}
	for _, gvk := range []schema.GroupVersionKind{
		{Group: "networking.istio.io", Version: "v1", Kind: "VirtualService"},
		{Group: "security.istio.io", Version: "v1", Kind: "AuthorizationPolicy"},
		{Group: "telemetry.istio.io", Version: "v1", Kind: "Telemetry"},
	} {
		if v, err := set.validator(gvk); err != nil || v == nil {
			t.Errorf("%s: validator %v, error %v", gvk, v, err)
		}
	}
}
