package grafana

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// byPod is the legend of a series per node.
const byPod = "{{pod}} ({{zone}})"

// breakerStates names the values of wsgateway_redis_breaker_state and
// wsgateway_hook_breaker_state.
var breakerStates = map[float64]state{0: {"closed", "green"}, 1: {"half-open", "orange"}, 2: {"open", "red"}}

// overviewRows are the Overview dashboard: is the service healthy, and if
// not, where.
func overviewRows() []row {
	return []row{overviewSummary(), overviewConnections(), overviewMessages(), overviewSlowConsumers(),
		overviewRedis(), overviewHooks(), overviewNodes(), overviewRuntime()}
}

func overviewSummary() row {
	return row{title: "Summary", panels: []cog.Builder[dashboard.Panel]{
		single("Connections", "short", "Open WebSocket connections on the selected nodes "+
			"(wsgateway_connections).", query{sum("", sel("wsgateway_connections")), "connections"}, 0, 0),
		single("Ready nodes", "short", "Selected nodes that are not draining (1 - wsgateway_draining). "+
			"Alert WSGatewayNoNodesReady fires when a namespace has none.",
			query{sum("", "1 - "+sel("wsgateway_draining")), "ready"}, 0, 0),
		single("Deliveries/s", "short", "Publications written to subscribers' sockets per second "+
			`(wsgateway_messages_sent_total{kind="pub"}).`,
			query{sum("", rate("wsgateway_messages_sent_total", `kind="pub"`)), "deliveries/s"}, 0, 0),
		single("Delivery lag p99", "s", "99th percentile of the time from publish to the write on the "+
			"subscriber's socket, across nodes. The SLO is 100 ms (red); alert WSGatewayDeliveryLagHigh.",
			query{quantile("0.99", "wsgateway_delivery_lag_seconds", ""), "p99"}, 0.05, 0.1),
		single("Slow-consumer disconnects/s", "short", "Connections closed with 4008 because their send "+
			"queue overflowed. Near zero when healthy; alert WSGatewaySlowConsumers.",
			query{sum("", rate("wsgateway_slow_consumer_disconnects_total")), "4008/s"}, 0.05, 0.1),
		single("Redis breaker (worst node)", "short", "The worst Redis circuit breaker state among the "+
			"selected nodes: closed, half-open (probing) or open (publishes, history and new subscriptions "+
			"fail with unavailable). Alert WSGatewayRedisBreakerOpen.",
			query{aggregate("max", "", sel("wsgateway_redis_breaker_state")), "state"}, 1, 2).
			Mappings([]dashboard.ValueMapping{valueNames(breakerStates)}),
	}}
}

func overviewConnections() row {
	return row{title: "Connections", panels: []cog.Builder[dashboard.Panel]{
		graph("Connections by pod", "short", "Open WebSocket connections per node "+
			"(wsgateway_connections). Nodes should hold similar numbers; one far above the others "+
			"received a reconnect wave.", query{sum("pod, zone", sel("wsgateway_connections")), byPod}),
		graph("Connections by zone", "short", "Open WebSocket connections per availability zone: after "+
			"a zone failure its clients show up in the others.",
			query{sum("zone", sel("wsgateway_connections")), "{{zone}}"}),
		graph("Connection attempts/s by result", "reqps", "Upgrades and connects per second by result "+
			"(wsgateway_connects_total): ok, unauthorized, timeout, over_limit (--max-connections), "+
			"rate_limited (--connect-rate), origin, bad_handshake, draining. A rise of ok together with "+
			"disconnects is a reconnect storm.",
			query{sum("result", rate("wsgateway_connects_total")), "{{result}}"}),
		graph("Disconnects/s by close code", "short", "Closed connections per second by WebSocket close "+
			"code (wsgateway_disconnects_total). Mostly 1000/1001 when healthy; 1012 during rollouts; "+
			"4001 token expiry; 4008 slow consumers; 4029 abusive clients; 1011/1006 network trouble.",
			query{sum("code", rate("wsgateway_disconnects_total")), "{{code}}"}),
	}}
}

func overviewMessages() row {
	slo := query{"vector(0.1)", "SLO (100 ms)"}
	return row{title: "Messages", panels: []cog.Builder[dashboard.Panel]{
		graph("Commands received/s by op", "short", "Client commands per second by op "+
			"(wsgateway_messages_received_total); invalid counts frames that did not decode.",
			query{sum("op", rate("wsgateway_messages_received_total")), "{{op}}"}),
		graph("Messages sent/s by kind", "short", "Messages written to clients per second by kind "+
			"(wsgateway_messages_sent_total): pub is a delivered publication, reply a command reply, "+
			"unsub a server-side unsubscribe.",
			query{sum("kind", rate("wsgateway_messages_sent_total")), "{{kind}}"}),
		graph("Publish latency", "s", "p50 and p99 of the time from accepting a publish to handing it "+
			"to the local subscribers' send queues (wsgateway_publish_latency_seconds). Rising with CPU "+
			"means the node is saturated.",
			query{quantile("0.5", "wsgateway_publish_latency_seconds", ""), "p50"},
			query{quantile("0.99", "wsgateway_publish_latency_seconds", ""), "p99"}),
		withReference(graph("Delivery lag", "s", "p50 and p99 of the time from publish to the write on "+
			"the subscriber's socket, across nodes (wsgateway_delivery_lag_seconds), against the 100 ms "+
			"SLO (dashed). Alert WSGatewayDeliveryLagHigh fires when p99 stays above it.",
			query{quantile("0.5", "wsgateway_delivery_lag_seconds", ""), "p50"},
			query{quantile("0.99", "wsgateway_delivery_lag_seconds", ""), "p99"}, slo), "C"),
		graph("Subscriptions by pod", "short", "Channel subscriptions held by each node's connections "+
			"(wsgateway_subscriptions).", query{sum("pod, zone", sel("wsgateway_subscriptions")), byPod}),
		graph("API requests/s by route and code", "reqps", "Backend API calls per second by route and "+
			"HTTP status (wsgateway_api_requests_total). 503 on publish means Redis is unavailable.",
			query{sum("route, code", rate("wsgateway_api_requests_total")), "{{route}} {{code}}"}),
	}}
}

func overviewSlowConsumers() row {
	return row{title: "Slow consumers and recovery", panels: []cog.Builder[dashboard.Panel]{
		graph("Slow-consumer disconnects/s by pod", "short", "Connections closed with 4008 per second: "+
			"their send queue (--send-queue-bytes) overflowed, or one write stalled for 10 s, because the client read too slowly "+
			"(wsgateway_slow_consumer_disconnects_total). Alert WSGatewaySlowConsumers.",
			query{sum("pod, zone", rate("wsgateway_slow_consumer_disconnects_total")), byPod}),
		graph("Send-queue drops/s by pod", "short", "Messages dropped per second because a send queue "+
			"was full (wsgateway_send_queue_dropped_total); the connection is then closed with 4008.",
			query{sum("pod, zone", rate("wsgateway_send_queue_dropped_total")), byPod}),
		graph("Recoveries/s by result", "short", "Subscribes with recover per second by result "+
			"(wsgateway_recoveries_total): not_recovered means the client missed more than the history "+
			"holds, or Redis lost it. Alert WSGatewayRecoveryFailures.",
			query{sum("result", rate("wsgateway_recoveries_total")), "{{result}}"}),
		graph("Socket write errors/s by pod", "short", "Failed writes to client sockets per second "+
			"(wsgateway_write_errors_total): timeouts and resets, usually clients on bad networks.",
			query{sum("pod, zone", rate("wsgateway_write_errors_total")), byPod}),
	}}
}

func overviewRedis() row {
	return row{title: "Redis", panels: []cog.Builder[dashboard.Panel]{
		states("Redis breaker by pod", "Each node's Redis circuit breaker (wsgateway_redis_breaker_state): "+
			"closed is healthy; open means publishes, history, presence and new subscriptions fail at once "+
			"with unavailable; half-open is a probe every 2 s. Nodes without Redis stay closed.",
			query{aggregate("max", "pod, zone", sel("wsgateway_redis_breaker_state")), byPod}, breakerStates),
		graph("Redis operation latency p99 by op", "s", "99th percentile duration of Redis operations by "+
			"op (wsgateway_redis_op_duration_seconds). Calls time out at 500 ms.",
			query{quantile("0.99", "wsgateway_redis_op_duration_seconds", "op"), "{{op}}"}),
		graph("Redis errors/s by op", "short", "Failed Redis operations per second by op "+
			"(wsgateway_redis_errors_total). Three failures in a row open the breaker.",
			query{sum("op", rate("wsgateway_redis_errors_total")), "{{op}}"}),
		graph("Redis operations/s by op", "short", "Redis operations per second by op (the count of "+
			"wsgateway_redis_op_duration_seconds): one publish per publication, nothing per delivery.",
			query{sum("op", rate("wsgateway_redis_op_duration_seconds_count")), "{{op}}"}),
	}}
}

// hookFailures are the results of wsgateway_hook_requests_total that are no answer from the
// backend: the call failed (timeout, refused, non-200, bad body) or its breaker was open.
const hookFailures = `result=~"failed|breaker_open"`

func overviewHooks() row {
	return row{title: "Backend hooks", panels: []cog.Builder[dashboard.Panel]{
		graph("Hook calls/s by hook and result", "reqps", "Calls to the backends' hooks per second by hook "+
			"(connect, subscribe, publish, rpc) and result (wsgateway_hook_requests_total): ok, error (the "+
			"backend refused the action), disconnect (it closed the connection), failed, breaker_open. Each "+
			"client action is one call; the mesh, not the gateway, retries connection failures.",
			query{sum("hook, result", rate("wsgateway_hook_requests_total")), "{{hook}} {{result}}"}),
		graph("Hook failures/s by hook", "reqps", "Hook calls per second that got no answer from the backend "+
			"(results failed and breaker_open): the client got unavailable, or the action went ahead "+
			"unchecked where on_error is allow. Refusals by the backend (error) are not failures.",
			query{sum("hook, result", rate("wsgateway_hook_requests_total", hookFailures)), "{{hook}} {{result}}"}),
		graph("Hook latency p99 by hook", "s", "99th percentile duration of hook calls by hook "+
			"(wsgateway_hook_duration_seconds), mesh retries included. Each call gives up at its timeout "+
			"(hooks.yaml, 1 s by default); an open breaker answers at once.",
			query{quantile("0.99", "wsgateway_hook_duration_seconds", "hook"), "{{hook}}"}),
		states("Hook breaker by endpoint (worst node)", "The circuit breaker of each hook endpoint, the worst "+
			"state among the selected nodes (wsgateway_hook_breaker_state): closed is healthy; open means "+
			"every hook on that endpoint fails at once (unavailable, or goes ahead with on_error allow); "+
			"half-open lets one probe through. Alert WSGatewayHookBreakerOpen.",
			query{aggregate("max", "endpoint", sel("wsgateway_hook_breaker_state")), "{{endpoint}}"}, breakerStates),
	}}
}

func overviewNodes() row {
	return row{title: "Nodes", panels: []cog.Builder[dashboard.Panel]{
		states("Draining by pod", "Whether each node is draining after SIGTERM (wsgateway_draining): it "+
			"fails /readyz, then closes its connections with 1012 over --drain-window. A drain lasts under "+
			"a minute; alert WSGatewayDrainingTooLong fires after 5 minutes.",
			query{aggregate("max", "pod, zone", sel("wsgateway_draining")), byPod},
			map[float64]state{0: {"serving", "green"}, 1: {"draining", "orange"}}),
		graph("Nodes by zone and version", "short", "Running nodes per zone and version "+
			"(wsgateway_build_info): a rollout shows as one version handing over to the next; "+
			"the zones should be balanced.",
			query{aggregate("count", "zone, version", sel("wsgateway_build_info")), "{{zone}} {{version}}"}),
	}}
}

func overviewRuntime() row {
	return row{title: "Go runtime", panels: []cog.Builder[dashboard.Panel]{
		graph("Goroutines by pod", "short", "Goroutines per node (go_goroutines): about one per idle "+
			"connection plus one per connection with data waiting. Growth without connections is a leak.",
			query{sum("pod, zone", sel("go_goroutines")), byPod}),
		graph("Heap in use by pod", "bytes", "Go heap in use per node (go_memstats_heap_inuse_bytes). "+
			"Compare with RSS on the Capacity dashboard; GOMEMLIMIT should sit a little under the "+
			"container limit.", query{sum("pod, zone", sel("go_memstats_heap_inuse_bytes")), byPod}),
		graph("GC cycles/s by pod", "short", "Garbage collections per second per node "+
			"(go_gc_duration_seconds_count). Many more near GOMEMLIMIT.",
			query{sum("pod, zone", rate("go_gc_duration_seconds_count")), byPod}),
		graph("GC pause time share by pod", "percentunit", "Share of wall time spent in stop-the-world GC "+
			"pauses per node (rate of go_gc_duration_seconds_sum). Pauses delay every delivery.",
			query{sum("pod, zone", rate("go_gc_duration_seconds_sum")), byPod}),
	}}
}
