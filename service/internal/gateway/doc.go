// Package gateway is the wsgateway program: Run parses the configuration,
// builds a node's parts in dependency order (broker, hub, sessions, server),
// serves until a signal, drains and tears down in reverse. The command in
// cmd/wsgateway only calls it; tests and service/gatewaytest run it in
// process the same way.
package gateway
