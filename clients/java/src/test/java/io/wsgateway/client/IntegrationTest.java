package io.wsgateway.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Every call against one real node (bin/wsgateway through testenv), and the token and 4003 closes. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class IntegrationTest {
  static Testenv env;
  static String url;
  static final AtomicInteger channels = new AtomicInteger();

  @BeforeAll
  static void start() throws Exception {
    env = Testenv.start("single", List.of("-nodes", "1"), "--drain-delay", "0s");
    url = env.ws(0);
  }

  @AfterAll
  static void stop() throws Exception {
    if (env != null) {
      env.close();
    }
  }

  static String channel() {
    return "chat:java-" + ProcessHandle.current().pid() + "-" + channels.incrementAndGet();
  }

  static WsGatewayClient.Builder client() {
    return WsGatewayClient.builder(url).timeout(Duration.ofSeconds(5)).backoff(Duration.ofMillis(100), Duration.ofSeconds(1));
  }

  static <T> T get(CompletableFuture<T> f) throws Exception {
    return f.get(10, TimeUnit.SECONDS);
  }

  static WsGatewayException failure(CompletableFuture<?> f) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
    assertTrue(e.getCause() instanceof WsGatewayException, "cause: " + e.getCause());
    return (WsGatewayException) e.getCause();
  }

  @Test
  void everyCall() throws Exception {
    try (WsGatewayClient alice = client().token(Testenv.token("alice", 600)).build();
        WsGatewayClient bob = client().token(Testenv.token("bob", 600)).build()) {
      Recorder rec = new Recorder();
      alice.addListener(rec);
      assertEquals(ClientState.DISCONNECTED, alice.state());
      String ch = channel();
      // subscribed before connect(): sent once connected
      Subscription sub = alice.subscribe(ch, rec);
      get(alice.connect());
      assertEquals(ClientState.CONNECTED, alice.state());
      assertEquals("alice", alice.info().user());
      assertEquals("n0", alice.info().node());
      assertTrue(alice.info().pingInterval() > 0);
      get(sub.ready());
      assertEquals(SubscriptionState.SUBSCRIBED, sub.state());
      assertEquals(List.of(new SubscriptionStateEvent(SubscriptionState.SUBSCRIBED, false, false, "", null)), rec.subStates);

      get(bob.connect());
      PublishResult p1 = get(bob.publish(ch, Map.of("text", "one")));
      assertEquals(1, p1.offset());
      // the same idempotency key is published once: the reply repeats the first offset
      PublishResult p2 = get(bob.publish(ch, "two", "key-2"));
      assertEquals(p2, get(bob.publish(ch, "two again", "key-2")));
      assertEquals(2, p2.offset());
      JsonObject api = Testenv.api(env.node(0).get("api").getAsString(), "publish",
          "{\"channel\":\"" + ch + "\",\"data\":{\"from\":\"api\"}}").getValue();
      assertEquals(3, api.get("offset").getAsLong());
      Testenv.waitFor("three publications", 10, () -> rec.pubs.size() == 3);
      assertEquals(List.of(1L, 2L, 3L), rec.offsets());
      assertEquals("bob", rec.pubs.get(0).user());
      assertEquals("one", rec.pubs.get(0).data().getAsJsonObject().get("text").getAsString());
      assertEquals("two", rec.pubs.get(1).data(String.class));
      assertNull(rec.pubs.get(2).user(), "a publication from the API has no user");
      assertEquals(p1.epoch(), rec.pubs.get(0).epoch());

      PresenceResult pr = get(bob.presence(ch));
      assertEquals(1, pr.users().size());
      assertEquals("alice", pr.users().get(0).user());
      assertEquals(alice.info().client(), pr.users().get(0).client());

      HistoryResult h = get(bob.history(ch, 10));
      assertEquals(3, h.offset());
      assertEquals(List.of(1L, 2L, 3L), h.publications().stream().map(Publication::offset).toList());
      HistoryResult since = get(bob.history(ch, 1L, 1));
      assertEquals(List.of(2L), since.publications().stream().map(Publication::offset).toList());

      get(alice.ping());

      // errors reject with the contract's code, and the connection stays up
      assertEquals("permission_denied", failure(bob.publish("news:x", 1)).code());
      assertEquals("permission_denied", failure(bob.history("news:x", 1)).code());
      Subscription refused = bob.subscribe("news:x");
      assertEquals("permission_denied", failure(refused.ready()).code());
      assertEquals(SubscriptionState.UNSUBSCRIBED, refused.state());
      assertEquals(ClientState.CONNECTED, bob.state());

      get(sub.unsubscribe());
      assertEquals(SubscriptionState.UNSUBSCRIBED, sub.state());
      get(bob.publish(ch, "after unsubscribe"));
      assertEquals(0, get(bob.presence(ch)).users().size());
      get(alice.ping()); // a round trip: a publication sent to alice would have come before its reply
      assertEquals(3, rec.pubs.size(), "no publication after unsubscribe");

      get(alice.disconnect());
      assertEquals(ClientState.DISCONNECTED, alice.state());
      assertEquals(List.of("CONNECTING", "CONNECTED", "DISCONNECTED 1000"), rec.stateNames());
      bob.subscribe("chat:dup");
      assertThrows(IllegalStateException.class, () -> bob.subscribe("chat:dup"));
    }
  }

  @Test
  void apiDisconnectIsTerminal() throws Exception {
    AtomicInteger dials = new AtomicInteger();
    try (WsGatewayClient c = client().token(Testenv.token("carol", 600)).tokenSupplier(() -> {
      dials.incrementAndGet();
      return CompletableFuture.completedFuture(Testenv.token("carol", 600));
    }).build()) {
      Recorder rec = new Recorder();
      c.addListener(rec);
      get(c.connect());
      var r = env.api(0, "disconnect", "{\"user\":\"carol\"}");
      assertEquals(200, r.getKey());
      Testenv.waitFor("the closed state", 10, () -> c.state() == ClientState.CLOSED);
      ClientStateEvent last = rec.states.get(rec.states.size() - 1);
      assertEquals(4003, last.code());
      assertEquals(4003, last.error().closeCode());
      Thread.sleep(1500); // longer than the largest backoff (1 s): no dial happens
      assertEquals(List.of("CONNECTING", "CONNECTED", "CLOSED 4003"), rec.stateNames());
      assertEquals(0, dials.get(), "no new token asked for after 4003");
      assertEquals("closed", failure(c.publish("chat:x", 1)).code());
    }
  }

  @Test
  void closed4001GetsANewTokenFromTheSupplier() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    // the first token is signed with another key: connect is refused and the node closes with 4001
    try (WsGatewayClient c = client().token(Testenv.token("dave", 600, "not-the-secret")).tokenSupplier(() -> {
      calls.incrementAndGet();
      return CompletableFuture.supplyAsync(() -> Testenv.token("dave", 600));
    }).build()) {
      Recorder rec = new Recorder();
      c.addListener(rec);
      get(c.connect());
      assertEquals("dave", c.info().user());
      assertEquals(1, calls.get());
      assertEquals(List.of("CONNECTING", "CONNECTING 4001", "CONNECTED"), rec.stateNames());
      get(c.publish(channel(), "with the new token"));
    }
  }

  @Test
  void closed4001WithoutSupplierIsTerminal() throws Exception {
    try (WsGatewayClient c = client().token(Testenv.token("dave", 600, "not-the-secret")).build()) {
      WsGatewayException e = failure(c.connect());
      assertEquals(4001, e.closeCode());
      assertEquals(ClientState.CLOSED, c.state());
    }
  }

  @Test
  void refreshesInBandBeforeExpiry() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    // a 3 s token: without an in-band refresh the node closes the connection with 4001 at its exp
    try (WsGatewayClient c = client().token(Testenv.token("erin", 3)).tokenSupplier(() -> {
      calls.incrementAndGet();
      return CompletableFuture.completedFuture(Testenv.token("erin", 600));
    }).build()) {
      Recorder rec = new Recorder();
      c.addListener(rec);
      get(c.connect());
      String client = c.info().client();
      Testenv.waitFor("a refresh", 10, () -> calls.get() >= 1);
      Thread.sleep(4000); // past the first token's exp
      get(c.ping());
      assertEquals(List.of("CONNECTING", "CONNECTED"), rec.stateNames(), "the connection never closed");
      assertEquals(client, c.info().client(), "the same connection");
      assertFalse(calls.get() > 2, "the supplier was called " + calls.get() + " times for one refresh");
    }
  }
}
