// Package jmeter holds wsgateway's JMeter plan (wsgateway.jmx) for users who
// load-test with Apache JMeter 5 and the "JMeter WebSocket Samplers" plugin.
// JMeter itself does not run here (the Debian package is 2.13, too old to
// load the plan, and the plugin cannot be fetched), so the package's tests
// check the plan structurally instead: well-formed XML, every element paired
// with its hashTree, only classes that JMeter 5 and the plugin provide, every
// property documented in README.md, and every command it sends valid per
// docs/protocol.md. README.md says how to install and run it.
package jmeter
