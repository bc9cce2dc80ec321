package io.wsgateway.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two nodes on Redis behind HAProxy (testenv -nodes 2 -redis -lb): while a backend keeps publishing numbered
 * messages through the API of the other node, the subscriber's node drains (SIGTERM, close 1012) or is killed
 * (SIGKILL, 1006). The client must come back through HAProxy on the other node and recover: every offset
 * exactly once, in order, and the subscription's state events say recovered.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClusterTest {

  @Test
  void drainingNodeRecoversEveryOffsetOnce() throws Exception {
    // HAProxy checks /readyz every 500 ms: the draining node leaves the pool within the drain delay
    survives("drain", 1012, "{\"op\":\"signal\",\"node\":%d,\"signal\":\"TERM\"}", "--drain-delay", "2s", "--drain-window", "0s");
  }

  @Test
  void killedNodeRecoversEveryOffsetOnce() throws Exception {
    // the node's socket ends without a close frame: 1006
    survives("kill", 1006, "{\"op\":\"kill\",\"node\":%d}");
  }

  private void survives(String name, int closeCode, String cut, String... args) throws Exception {
    try (Testenv env = Testenv.start(name, List.of("-nodes", "2", "-redis", "-lb"), args);
        WsGatewayClient c = WsGatewayClient.builder(env.info.get("lb").getAsString())
            .token(Testenv.token("alice", 600)).timeout(Duration.ofSeconds(5))
            .backoff(Duration.ofMillis(100), Duration.ofSeconds(1)).build()) {
      Recorder rec = new Recorder();
      c.addListener(rec);
      c.connect().get(10, TimeUnit.SECONDS);
      int from = c.info().node().equals("n0") ? 0 : 1;
      assertEquals("n" + from, c.info().node());
      int other = 1 - from;
      String ch = "chat:java-cluster-" + name + "-" + ProcessHandle.current().pid();
      Subscription sub = c.subscribe(ch, rec);
      sub.ready().get(10, TimeUnit.SECONDS);

      // the backend publishes n = 1, 2, ... through the other node's API until stopped
      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong last = new AtomicLong();
      String api = env.node(other).get("api").getAsString();
      CompletableFuture<Void> publisher = CompletableFuture.runAsync(() -> {
        try {
          for (long n = 1; !stop.get(); n++) {
            var r = Testenv.api(api, "publish", "{\"channel\":\"" + ch + "\",\"data\":{\"n\":" + n + "}}");
            if (r.getKey() != 200 || r.getValue().get("offset").getAsLong() != n) {
              throw new IllegalStateException("API publish " + n + ": HTTP " + r.getKey() + " " + r.getValue());
            }
            last.set(n);
            Thread.sleep(5);
          }
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });

      Testenv.waitFor("publications before the cut", 10, () -> rec.pubs.size() >= 10);
      // A publish in flight when the connection drops is sent again after the reconnect (with its
      // idempotency key): the node is stopped first, so the publish is written but never answered.
      CompletableFuture<PublishResult> inFlight = null;
      String ch2 = ch + "-own";
      if (closeCode == 1006) {
        env.command("{\"op\":\"signal\",\"node\":" + from + ",\"signal\":\"STOP\"}");
        inFlight = c.publish(ch2, "sent while the node was stopped");
        Thread.sleep(200); // not a timing assertion: only gives the write a moment before the kill
      }
      env.command(String.format(cut, from));
      Testenv.waitFor("a connection to n" + other, 20,
          () -> c.state() == ClientState.CONNECTED && c.info().node().equals("n" + other));
      Testenv.waitFor("the subscription back", 10,
          () -> sub.state() == SubscriptionState.SUBSCRIBED && rec.subStates.size() == 3);
      long mark = last.get();
      Testenv.waitFor("live publications after the recovery", 10, () -> rec.pubs.size() >= mark + 10);
      stop.set(true);
      publisher.get(10, TimeUnit.SECONDS);
      long n = last.get();
      Testenv.waitFor("offset " + n, 10, () -> !rec.pubs.isEmpty() && rec.pubs.get(rec.pubs.size() - 1).offset() >= n);

      List<Long> want = LongStream.rangeClosed(1, n).boxed().toList();
      assertEquals(want, rec.offsets(), "every offset once, in order");
      List<Long> data = new ArrayList<>();
      for (Publication p : rec.pubs) {
        data.add(p.data().getAsJsonObject().get("n").getAsLong());
      }
      assertEquals(want, data);
      assertEquals(List.of("CONNECTING", "CONNECTED", "CONNECTING " + closeCode, "CONNECTED"), rec.stateNames());
      assertEquals(List.of(
          new SubscriptionStateEvent(SubscriptionState.SUBSCRIBED, false, false, "", null),
          new SubscriptionStateEvent(SubscriptionState.SUBSCRIBING, false, false, "reconnecting", null),
          new SubscriptionStateEvent(SubscriptionState.SUBSCRIBED, true, true, "", null)), rec.subStates);
      assertFalse(rec.subStates.get(2).resyncNeeded());
      assertTrue(n > 20, "only " + n + " publications");
      if (inFlight != null) {
        assertEquals(1, inFlight.get(10, TimeUnit.SECONDS).offset());
        assertEquals(1, c.history(ch2, 10).get(10, TimeUnit.SECONDS).publications().size(), "published once");
      }
      if (closeCode == 1012) {
        assertEquals(0, env.command("{\"op\":\"wait\",\"node\":" + from + ",\"timeout\":20}").get("exit_code").getAsInt());
      }
    }
  }
}
