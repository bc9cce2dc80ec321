// Package jmeter holds wsgateway's JMeter plan (wsgateway.jmx) for users who
// load-test with Apache JMeter 5 and the "JMeter WebSocket Samplers" plugin,
// the Maven project (pom.xml) that assembles a pinned JMeter home from Maven
// Central, and Run and Read: they run the plan non-GUI and read its results
// file and log, because JMeter exits 0 when samplers or assertions fail.
// The package's smoke test runs the plan against a real node, and fails it
// when the node is down or an assertion cannot hold. README.md says how to
// install and run it.
package jmeter
