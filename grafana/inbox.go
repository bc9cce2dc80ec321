package grafana

import (
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// The inbox's per-topic gauges (wsgateway_inbox_lag_messages,
// wsgateway_inbox_oldest_pending_seconds) and the webhook backlog are read
// from Redis at scrape time, so every node that reports a topic reports the
// same value: the panels take the max across nodes, never the sum.

// topicVariable narrows the inbox dashboard to some topics. Its values come
// from the nodes' per-topic gauges, which exist for the topics a node has
// sent to.
func topicVariable() cog.Builder[dashboard.VariableModel] {
	return labelValues("topic", "Topic", `label_values(wsgateway_inbox_lag_messages{namespace=~"$namespace"}, topic)`, true)
}

// The workers (service/worker) are the backends' pods, not gateway nodes:
// they have no wsgateway_build_info, hence no zone, and their pod names are
// not the gateway's. Their series are selected by namespace and topic only;
// the dashboard tests check exactly that for every wsgateway_worker_ series.

// workerSel is a selector of a worker metric filtered by the namespace and
// topic variables and any extra matchers.
func workerSel(metric string, matchers ...string) string {
	ms := append([]string{`namespace=~"$namespace"`, `topic=~"$topic"`}, matchers...)
	return metric + "{" + strings.Join(ms, ", ") + "}"
}

// workerRate is the per-second rate of a worker counter.
func workerRate(metric string, matchers ...string) string {
	return "rate(" + workerSel(metric, matchers...) + "[$__rate_interval])"
}

// inboxRows are the Inbox and events dashboard: are clients' messages
// reaching the workers and their answers the clients, and are lifecycle
// events reaching their consumers and the webhook.
func inboxRows() []row {
	return []row{inboxSummary(), inboxSends(), inboxWorkers(), inboxEvents()}
}

func inboxSummary() row {
	return row{title: "Summary", panels: []cog.Builder[dashboard.Panel]{
		single("Oldest pending message", "s", "Age of the oldest message not yet taken by a worker, the worst "+
			"selected topic (wsgateway_inbox_oldest_pending_seconds). Alert WSGatewayInboxOldestPending "+
			"fires above 2 minutes.",
			query{aggregate("max", "", sel("wsgateway_inbox_oldest_pending_seconds", `topic=~"$topic"`)), "oldest"}, 30, 120),
		single("Inbox lag", "short", "Messages queued and not yet taken by a worker, summed over the selected "+
			"topics (wsgateway_inbox_lag_messages; the max across nodes, which all read the same Redis). The "+
			"KEDA ScaledObject of the example worker scales on this.",
			query{"sum (" + aggregate("max", "topic", sel("wsgateway_inbox_lag_messages", `topic=~"$topic"`)) + ")", "lag"}, 0, 0),
		single("Sends refused/s", "short", "send commands answered rate_limited (full inbox) or unavailable (no "+
			"worker, Redis down) per second (wsgateway_inbox_enqueued_total).",
			query{sum("", rate("wsgateway_inbox_enqueued_total", `result=~"full|no_worker|unavailable"`)), "refused/s"}, 0.1, 1),
		single("Dead letters/s", "short", "Messages the workers of the selected topics move to the dead letters "+
			"per second (wsgateway_worker_handled_total{result=\"dead\"}). Alert WSGatewayInboxDeadLetters.",
			query{"sum (" + workerRate("wsgateway_worker_handled_total", `result="dead"`) + ")", "dead/s"}, 0.01, 0.1),
		single("Event backlog", "short", "Lifecycle events not yet delivered to the webhook "+
			"(wsgateway_events_backlog, the max across nodes). Grows while the receiver fails.",
			query{aggregate("max", "", sel("wsgateway_events_backlog")), "backlog"}, 1000, 100000),
		single("Webhook failures/s", "short", "Webhook POSTs per second that failed (retried) or were "+
			"dead-lettered (wsgateway_webhook_deliveries_total). Alert WSGatewayWebhookFailing.",
			query{sum("", rate("wsgateway_webhook_deliveries_total", `result=~"failed|dead"`)), "failed/s"}, 0.01, 0.1),
	}}
}

func inboxSends() row {
	return row{title: "Sends and replies", panels: []cog.Builder[dashboard.Panel]{
		graph("Sends/s by result", "short", "send commands per second by result (wsgateway_inbox_enqueued_total): "+
			"ok (queued), duplicate (idempotency key seen, nothing queued), full (rate_limited: "+
			"--inbox-max-len reached), no_worker (unavailable: no worker seen for --inbox-no-worker), "+
			"unavailable (Redis down), denied (no send permission).",
			query{sum("result", rate("wsgateway_inbox_enqueued_total")), "{{result}}"}),
		graph("Inbox lag by topic", "short", "Messages queued per topic and not yet taken by a worker "+
			"(wsgateway_inbox_lag_messages, read from Redis at scrape; the max across nodes). A lag that "+
			"only grows means the workers cannot keep up or are gone; --inbox-max-len is the ceiling.",
			query{aggregate("max", "topic", sel("wsgateway_inbox_lag_messages", `topic=~"$topic"`)), "{{topic}}"}),
		graph("Oldest pending message by topic", "s", "Age of the oldest message not yet taken by a worker, per "+
			"topic (wsgateway_inbox_oldest_pending_seconds; 0 when none). Alert WSGatewayInboxOldestPending.",
			query{aggregate("max", "topic", sel("wsgateway_inbox_oldest_pending_seconds", `topic=~"$topic"`)), "{{topic}}"}),
		graph("Replies/s by result", "short", "Workers' POST /api/v1/reply per second by result "+
			"(wsgateway_inbox_replies_total): delivered (handed to the sender's node) or not_found (the sender "+
			"left; the worker may publish to user:<id> instead); and the reply pushes nodes wrote to their "+
			"clients (wsgateway_inbox_reply_pushes_total).",
			query{sum("result", rate("wsgateway_inbox_replies_total")), "reply {{result}}"},
			query{sum("result", rate("wsgateway_inbox_reply_pushes_total")), "push {{result}}"}),
	}}
}

func inboxWorkers() row {
	return row{title: "Workers", panels: []cog.Builder[dashboard.Panel]{
		graph("Handled/s by topic and result", "short", "Handler runs per second in the workers by topic and "+
			"result (wsgateway_worker_handled_total, scraped from the worker pods): ok, retry (failed, runs "+
			"again after a backoff, holding its partition), dead (moved to the dead letters).",
			query{"sum by (topic, result) (" + workerRate("wsgateway_worker_handled_total") + ")", "{{topic}} {{result}}"}),
		graph("Dead letters/s by topic", "short", "Messages the workers moved to the dead letters per second "+
			"(wsgateway_worker_handled_total{result=\"dead\"}): max_attempts failed runs or a Permanent error. "+
			"Their senders got a reply push with error internal. Alert WSGatewayInboxDeadLetters.",
			query{"sum by (topic) (" + workerRate("wsgateway_worker_handled_total", `result="dead"`) + ")", "{{topic}}"}),
		graph("Handler duration p99 by topic", "s", "99th percentile of one handler run in the workers "+
			"(wsgateway_worker_handler_duration_seconds).",
			query{"histogram_quantile(0.99, sum by (topic, le) (" +
				workerRate("wsgateway_worker_handler_duration_seconds_bucket") + "))", "{{topic}}"}),
		graph("Partitions held by topic", "short", "Partition leases the workers hold per topic "+
			"(wsgateway_worker_leases): equal to the topic's partition count when every partition has a "+
			"worker; lower means some partitions wait for one.",
			query{"sum by (topic) (" + workerSel("wsgateway_worker_leases") + ")", "{{topic}}"}),
	}}
}

func inboxEvents() row {
	return row{title: "Lifecycle events and webhook", panels: []cog.Builder[dashboard.Panel]{
		graph("Events emitted/s by type", "short", "Lifecycle events appended to the events stream per second by "+
			"type (wsgateway_events_emitted_total): connection.opened/closed, user.online/offline, "+
			"channel.occupied/vacated, presence.join/leave. A connect storm shows here first.",
			query{sum("type", rate("wsgateway_events_emitted_total")), "{{type}}"}),
		graph("Webhook deliveries/s by result", "short", "Webhook batch POSTs per second by result "+
			"(wsgateway_webhook_deliveries_total): ok, failed (retried with backoff, in order per subject), "+
			"dead (retried for --webhook-retry-window, then dead-lettered). Alert WSGatewayWebhookFailing.",
			query{sum("result", rate("wsgateway_webhook_deliveries_total")), "{{result}}"}),
		graph("Event backlog", "short", "Events not yet delivered to the webhook (wsgateway_events_backlog: "+
			"the webhook group's lag, read from Redis at scrape; the max across nodes). It must fall back to "+
			"zero after a connect storm or a receiver outage.",
			query{aggregate("max", "", sel("wsgateway_events_backlog")), "backlog"}),
		graph("Events waiting and write errors by pod", "short", "Lifecycle changes waiting for each node's "+
			"events writer (wsgateway_events_queued; when full, connects and subscribes wait) and failed "+
			"writes of lifecycle state to Redis per second (wsgateway_events_errors_total; refreshes heal them).",
			query{sum("pod, zone", sel("wsgateway_events_queued")), "queued " + byPod},
			query{sum("pod, zone", rate("wsgateway_events_errors_total")), "errors/s " + byPod}),
	}}
}
