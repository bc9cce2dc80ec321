// Every custom metric of the scenarios, defined once (k6 metrics must be
// created in the init context, and one name must have one definition).
// Names start with wsg_ so they never clash with k6's own ws_* metrics.
// A k6 threshold such as p(99)<50 passes when a Trend has no sample at all,
// so every Trend threshold in the scenarios is paired with a Counter
// threshold that fails an empty run.

import { Counter, Trend } from 'k6/metrics';

export const m = {
  // Connections.
  setupTime: new Trend('wsg_setup_time', true), // dial -> connect reply, ms
  connects: new Counter('wsg_connects'), // connect replies received (first connection of a client)
  connectErrors: new Counter('wsg_connect_errors'), // first connection attempts that failed
  held: new Counter('wsg_held'), // connections still open at the end of the hold
  unexpectedCloses: new Counter('wsg_unexpected_closes'), // closes we did not ask for (tag code)
  badLines: new Counter('wsg_bad_lines'), // unparsable lines, replies to nothing

  // Subscriptions and deliveries.
  subscribed: new Counter('wsg_subscribed'), // clients whose first subscribe(s) succeeded
  subscribeErrors: new Counter('wsg_subscribe_errors'),
  deliveries: new Counter('wsg_deliveries'), // live publications received in order
  deliveryLatency: new Trend('wsg_delivery_latency', true), // publisher's stamp -> receipt, ms
  lost: new Counter('wsg_lost'), // offsets never received (gaps, and the tail missing at the end)
  duplicated: new Counter('wsg_duplicated'), // offsets received twice or out of order
  epochChanges: new Counter('wsg_epoch_changes'),
  unsubs: new Counter('wsg_unsubs'), // server-side unsubscribe pushes
  notDrained: new Counter('wsg_not_drained'), // clients still behind the channel at the end

  // Publishing through the API.
  publishes: new Counter('wsg_publishes'),
  publishErrors: new Counter('wsg_publish_errors'), // publications that failed (after their retries)
  publishRetries: new Counter('wsg_publish_retries'),
  publishTime: new Trend('wsg_publish_time', true), // API round trip, ms

  // Commands on an established connection (soak).
  commandRtt: new Trend('wsg_command_rtt', true),
  commands: new Counter('wsg_commands'),
  commandErrors: new Counter('wsg_command_errors'),

  // Reconnects and recovery.
  disconnects: new Counter('wsg_disconnects'), // unexpected closes of a subscribed client (tag code)
  reconnects: new Counter('wsg_reconnects'), // connections re-established after a close
  reconnectErrors: new Counter('wsg_reconnect_errors'), // failed reconnect attempts (retried)
  recovered: new Counter('wsg_recovered'), // subscriptions recovered with recovered:true
  recoverFailed: new Counter('wsg_recover_failed'), // recovered:false: the client would have to resync
  recoveredPublications: new Counter('wsg_recovered_publications'), // publications that came in a recovery reply
  recoveryTime: new Trend('wsg_recovery_time', true), // close -> recovered subscribe reply, ms
  notRecovered: new Counter('wsg_not_recovered'), // clients without a live subscription at the end
  // For the storm's length: max(recovered_at) - min(close_at), both in ms
  // since the scenario started.
  closeAt: new Trend('wsg_close_at', true),
  recoveredAt: new Trend('wsg_recovered_at', true),
};

// Trend statistics in the summary: the report needs p(50) and p(99).
export const summaryTrendStats = ['avg', 'min', 'med', 'max', 'p(50)', 'p(90)', 'p(95)', 'p(99)', 'p(99.9)', 'count'];
