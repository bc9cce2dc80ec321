package k8s

import (
	"fmt"
	"net"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// placeholder stands for a value the tests cannot see: a Secret's key, a field of the pod.
const placeholder = "placeholder"

// containerEnv returns a container's environment as the kubelet builds it: the ConfigMaps of
// envFrom in order, then env. Values from elsewhere (Secrets, the downward API) are given as
// placeholders; external lists which ones those are.
func (b *bundle) containerEnv(c *corev1.Container) (env map[string]string, external map[string]bool, err error) {
	env, external = map[string]string{}, map[string]bool{}
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef == nil {
			continue // a Secret: its keys are not in the bundle
		}
		cm := b.configMap(from.ConfigMapRef.Name)
		if cm == nil {
			return nil, nil, fmt.Errorf("container %s: envFrom names ConfigMap %s, which is not in the bundle", c.Name, from.ConfigMapRef.Name)
		}
		for k, v := range cm.Data {
			env[from.Prefix+k] = v
			delete(external, from.Prefix+k)
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
			delete(external, e.Name)
		case e.ValueFrom.ConfigMapKeyRef != nil && b.configMap(e.ValueFrom.ConfigMapKeyRef.Name) != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			env[e.Name] = b.configMap(ref.Name).Data[ref.Key]
			delete(external, e.Name)
		default:
			env[e.Name] = placeholder
			external[e.Name] = true
		}
	}
	return env, external, nil
}

// gatewayEnv is the gateway container's environment (see containerEnv).
func (b *bundle) gatewayEnv() (env map[string]string, external map[string]bool, err error) {
	c := b.gatewayContainer()
	if c == nil {
		return nil, nil, fmt.Errorf("Deployment %s has no container %s", gatewayName, gatewayName)
	}
	return b.containerEnv(c)
}

// setting returns a setting the tests must read: present, and from the bundle itself.
func setting(env map[string]string, external map[string]bool, key string) (string, error) {
	v, ok := env[key]
	switch {
	case !ok:
		return "", fmt.Errorf("%s is not set: set it in the ConfigMap, so the bundle says what the pods run with", key)
	case external[key]:
		return "", fmt.Errorf("%s comes from outside the bundle (a Secret or the downward API): the tests cannot check it", key)
	}
	return v, nil
}

// durationSetting reads a Go duration setting such as WSG_DRAIN_DELAY.
func durationSetting(env map[string]string, external map[string]bool, key string) (time.Duration, error) {
	v, err := setting(env, external, key)
	if err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: %w", key, v, err)
	}
	return d, nil
}

// intSetting reads an integer setting such as WSG_MAX_CONNECTIONS.
func intSetting(env map[string]string, external map[string]bool, key string) (int64, error) {
	v, err := setting(env, external, key)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: %w", key, v, err)
	}
	return n, nil
}

// maxConnections is WSG_MAX_CONNECTIONS of the gateway container: how many connections one pod
// holds.
func (b *bundle) maxConnections() (int64, error) {
	env, external, err := b.gatewayEnv()
	if err != nil {
		return 0, err
	}
	return intSetting(env, external, "WSG_MAX_CONNECTIONS")
}

// portSetting reads the port of a listen address setting such as WSG_ADMIN_LISTEN (":9090").
func portSetting(env map[string]string, external map[string]bool, key string) (int32, error) {
	v, err := setting(env, external, key)
	if err != nil {
		return 0, err
	}
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: %w", key, v, err)
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%s=%q: want a fixed port, such as :9090", key, v)
	}
	return int32(n), nil
}

// gatewayPorts are the gateway's three listen ports.
type gatewayPorts struct{ ws, api, admin int32 }

// ports reads the gateway's listen ports from its environment (WSG_*_LISTEN).
func (b *bundle) ports() (gatewayPorts, error) {
	env, external, err := b.gatewayEnv()
	if err != nil {
		return gatewayPorts{}, err
	}
	var p gatewayPorts
	var errs [3]error
	p.ws, errs[0] = portSetting(env, external, "WSG_LISTEN")
	p.api, errs[1] = portSetting(env, external, "WSG_API_LISTEN")
	p.admin, errs[2] = portSetting(env, external, "WSG_ADMIN_LISTEN")
	for _, err := range errs {
		if err != nil {
			return p, err
		}
	}
	return p, nil
}
