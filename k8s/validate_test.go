package k8s

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	// The decoder Istio's own strict decoding (protomarshal.ApplyJSONStrict) long used, and the
	// one its generated UnmarshalJSON methods still use (with unknown fields allowed).
	//lint:ignore SA1019 deprecated, but what Istio's generated code decodes with
	"github.com/golang/protobuf/jsonpb"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"google.golang.org/protobuf/runtime/protoiface"
	"istio.io/api/annotation"
	"istio.io/api/label"
	meshv1alpha1 "istio.io/api/mesh/v1alpha1"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	securityv1beta1 "istio.io/api/security/v1beta1"
	telemetryv1alpha1 "istio.io/api/telemetry/v1alpha1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/validation/field"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

// strictScheme knows the built-in kinds and the prometheus-operator's.
var strictScheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := errors.Join(clientgoscheme.AddToScheme(s), monitoringv1.AddToScheme(s)); err != nil {
		panic(err)
	}
	return s
}()

// strictCodecs decodes strictScheme's kinds, failing on unknown, duplicate and wrong-case
// fields, as an API server does with fieldValidation=Strict.
var strictCodecs = serializer.NewCodecFactory(strictScheme, serializer.EnableStrict)

// istioSpecs gives the protobuf message of each Istio kind's spec. The CRD schema and jsonpb
// are both needed: the schema carries the CEL rules, jsonpb the exact field set of the proto.
var istioSpecs = map[schema.GroupKind]func() protoiface.MessageV1{
	{Group: "networking.istio.io", Kind: "Gateway"}:           func() protoiface.MessageV1 { return &networkingv1alpha3.Gateway{} },
	{Group: "networking.istio.io", Kind: "VirtualService"}:    func() protoiface.MessageV1 { return &networkingv1alpha3.VirtualService{} },
	{Group: "networking.istio.io", Kind: "DestinationRule"}:   func() protoiface.MessageV1 { return &networkingv1alpha3.DestinationRule{} },
	{Group: "networking.istio.io", Kind: "Sidecar"}:           func() protoiface.MessageV1 { return &networkingv1alpha3.Sidecar{} },
	{Group: "security.istio.io", Kind: "PeerAuthentication"}:  func() protoiface.MessageV1 { return &securityv1beta1.PeerAuthentication{} },
	{Group: "security.istio.io", Kind: "AuthorizationPolicy"}: func() protoiface.MessageV1 { return &securityv1beta1.AuthorizationPolicy{} },
	{Group: "telemetry.istio.io", Kind: "Telemetry"}:          func() protoiface.MessageV1 { return &telemetryv1alpha1.Telemetry{} },
}

// validateObject checks one rendered object as strictly as an API server with Istio's and the
// prometheus-operator's CRDs installed would, and then some: every object must be of a kind
// that can be checked.
func validateObject(obj map[string]any) error {
	u := &unstructured.Unstructured{Object: obj}
	gvk := u.GroupVersionKind()
	errs := validateMetadata(u)
	switch {
	case strings.HasSuffix(gvk.Group, ".istio.io"):
		errs = append(errs, validateIstio(gvk, obj)...)
	case gvk.Group == "keda.sh":
		errs = append(errs, validateKEDA(gvk, obj)...)
	case strictScheme.Recognizes(gvk):
		errs = append(errs, validateBuiltin(obj)...)
	default:
		errs = append(errs, fmt.Errorf("no validator for %s: add its schema to the tests", gvk))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s %s: %w", gvk.Kind, u.GetName(), err)
	}
	return nil
}

// validateMetadata checks names, labels and annotations as the API server does.
func validateMetadata(u *unstructured.Unstructured) []error {
	name := apimachineryvalidation.NameIsDNSSubdomain
	switch u.GetKind() {
	case "Namespace":
		name = apimachineryvalidation.ValidateNamespaceName
	case "Service":
		name = apimachineryvalidation.NameIsDNS1035Label
	}
	namespaced := u.GetKind() != "Namespace"
	return fieldErrors(apimachineryvalidation.ValidateObjectMetaAccessor(u, namespaced, name, field.NewPath("metadata")))
}

// validateBuiltin decodes a built-in or prometheus-operator object strictly, then checks the
// Istio settings carried on pod templates.
func validateBuiltin(obj map[string]any) []error {
	data, err := json.Marshal(obj)
	if err != nil {
		return []error{err}
	}
	decoded, _, err := strictCodecs.UniversalDeserializer().Decode(data, nil, nil)
	if err != nil {
		return []error{err}
	}
	if pt := podTemplateOf(decoded); pt != nil {
		return validateIstioPodSettings(pt.Labels, pt.Annotations)
	}
	return nil
}

// validateIstio checks an Istio object against its CRD (schema and CEL) and its spec against
// the protobuf message, refusing unknown fields.
func validateIstio(gvk schema.GroupVersionKind, obj map[string]any) []error {
	set, err := istioCRDs()
	if err != nil {
		return []error{err}
	}
	v, err := set.validator(gvk)
	if err != nil {
		return []error{err}
	}
	if v == nil {
		return []error{fmt.Errorf("no CRD serves %s", gvk)}
	}
	errs := fieldErrors(v.validate(obj))
	newSpec, ok := istioSpecs[gvk.GroupKind()]
	if !ok {
		return append(errs, fmt.Errorf("no protobuf message for %s: add it to istioSpecs", gvk.GroupKind()))
	}
	spec, err := json.Marshal(obj["spec"])
	if err != nil {
		return append(errs, err)
	}
	if err := unmarshalStrict(spec, newSpec()); err != nil {
		errs = append(errs, fmt.Errorf("spec: %w", err))
	}
	return errs
}

// validateIstioPodSettings checks the Istio labels and annotations on a pod template: each
// must be one Istio defines (a misspelled one is ignored by Istio, silently), and the proxy
// configuration must parse into ProxyConfig with no unknown field.
func validateIstioPodSettings(labels, annotations map[string]string) []error {
	var errs []error
	known := map[string]bool{}
	for _, a := range annotation.AllResourceAnnotations() {
		known[a.Name] = true
	}
	for _, l := range label.AllResourceLabels() {
		known[l.Name] = true
	}
	for _, m := range []map[string]string{labels, annotations} {
		for k := range m {
			if domain, _, ok := strings.Cut(k, "/"); ok && strings.HasSuffix(domain, "istio.io") && !known[k] {
				errs = append(errs, fmt.Errorf("%s is not an Istio label or annotation", k))
			}
		}
	}
	if cfg, ok := annotations[annotation.ProxyConfig.Name]; ok {
		if _, err := parseProxyConfig(cfg); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// parseProxyConfig reads a proxy.istio.io/config annotation (YAML) strictly.
func parseProxyConfig(s string) (*meshv1alpha1.ProxyConfig, error) {
	data, err := yaml.YAMLToJSON([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", annotation.ProxyConfig.Name, err)
	}
	var pc meshv1alpha1.ProxyConfig
	if err := unmarshalStrict(data, &pc); err != nil {
		return nil, fmt.Errorf("%s: %w", annotation.ProxyConfig.Name, err)
	}
	return &pc, nil
}

// unmarshalStrict decodes protobuf JSON, refusing unknown fields (Istio's own decoders, used by
// its client-go types, accept them silently).
func unmarshalStrict(data []byte, m protoiface.MessageV1) error {
	u := jsonpb.Unmarshaler{AllowUnknownFields: false}
	return u.Unmarshal(bytes.NewReader(data), m)
}

// fieldErrors turns a field.ErrorList into plain errors.
func fieldErrors(list field.ErrorList) []error {
	errs := make([]error, len(list))
	for i, e := range list {
		errs[i] = e
	}
	return errs
}
