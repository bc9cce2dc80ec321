package io.wsgateway.client;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import org.java_websocket.client.WebSocketClient;
import org.java_websocket.drafts.Draft_6455;
import org.java_websocket.handshake.ServerHandshake;


/**
 * A client of a wsgateway node (protocol wsgateway.v1, CONTRACT.md sections 2 and 8): one WebSocket that
 * reconnects with exponential backoff and full jitter following the close-code policy ({@link
 * ClosePolicy}), refreshes its token in-band, recovers every subscription by offset and epoch, and retries
 * publishes with their idempotency key after a drop.
 *
 * <pre>{@code
 * try (WsGatewayClient client = WsGatewayClient.builder("wss://host/ws").tokenSupplier(myTokens).build()) {
 *   Subscription sub = client.subscribe("chat:lobby", new SubscriptionListener() {
 *     public void onPublication(Publication p) { ... }
 *   });
 *   client.connect().join();
 *   client.publish("chat:lobby", Map.of("text", "hi")).join();
 * }
 * }</pre>
 *
 * <p><b>Thread-safety</b>: thread-safe. Every method may be called from any thread and returns at once; the
 * client's state lives on one event thread of its own, where every listener is called, one at a time and
 * in order. Listeners must not block that thread (and must not call {@code join()} on this client's
 * futures there). Futures complete on the event thread too: use the {@code *Async} variants to move work
 * elsewhere.
 */
public final class WsGatewayClient implements AutoCloseable {
  static final String SUBPROTOCOL = "wsgateway.v1";

  private final URI url;
  private final Map<String, String> headers;
  private final TokenSupplier tokenSupplier;
  private final long timeoutMs;
  private final long backoffBaseMs;
  private final long backoffCapMs;
  private final RandomGenerator random = RandomGenerator.getDefault();
  private final ScheduledExecutorService loop;
  private volatile Thread loopThread;
  private final List<ClientListener> listeners = new CopyOnWriteArrayList<>();
  private final List<Consumer<SendReply>> sendReplyListeners = new CopyOnWriteArrayList<>();

  // Event-thread state.
  private volatile ClientState state = ClientState.DISCONNECTED;
  private volatile ConnectInfo info;
  private String token;
  private boolean needToken;
  private CompletableFuture<String> tokenInFlight;
  private Socket socket;
  private int generation;
  private long nextId = 1;
  private final Map<Long, Pending> inflight = new HashMap<>();
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private final Map<String, Subscription> subs = new LinkedHashMap<>();
  private final List<CompletableFuture<Void>> connectWaiters = new ArrayList<>();
  private int attempt;
  private long connectedAtMs;
  private volatile long lastTrafficMs;
  private ScheduledFuture<?> pingTask;
  private ScheduledFuture<?> refreshTask;
  private ScheduledFuture<?> dialTask;

  private WsGatewayClient(Builder b) {
    this.url = b.url;
    this.headers = Map.copyOf(b.headers);
    this.token = b.token;
    this.tokenSupplier = b.tokenSupplier;
    this.timeoutMs = b.timeout.toMillis();
    this.backoffBaseMs = b.backoffBase.toMillis();
    this.backoffCapMs = b.backoffCap.toMillis();
    this.loop = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "wsgateway-client");
      t.setDaemon(true);
      loopThread = t;
      return t;
    });
  }

  /** A builder for a client of url (ws:// or wss://, path /ws). */
  public static Builder builder(String url) {
    return new Builder(URI.create(url));
  }

  /** Builds a {@link WsGatewayClient}. Not thread-safe: use it from one thread. */
  public static final class Builder {
    private final URI url;
    private final Map<String, String> headers = new LinkedHashMap<>();
    private String token;
    private TokenSupplier tokenSupplier;
    private Duration timeout = Duration.ofSeconds(10);
    private Duration backoffBase = Duration.ofMillis(ClosePolicy.BASE_MS);
    private Duration backoffCap = Duration.ofMillis(ClosePolicy.CAP_MS);

    private Builder(URI url) {
      String s = url.getScheme();
      if (!"ws".equals(s) && !"wss".equals(s)) {
        throw new IllegalArgumentException("wsgateway url " + url + ": scheme must be ws or wss");
      }
      this.url = url;
    }

    /** The JWT for the first connect; with a supplier too, the supplier gives the later ones. */
    public Builder token(String token) {
      this.token = token;
      return this;
    }

    /** Gives tokens: called before expiry (in-band refresh) and after a 4001 close. */
    public Builder tokenSupplier(TokenSupplier supplier) {
      this.tokenSupplier = supplier;
      return this;
    }

    /** An HTTP header sent with every upgrade request (for example a session Cookie for connect hooks). */
    public Builder header(String name, String value) {
      headers.put(name, value);
      return this;
    }

    /** How long a call may wait for its reply, including waits for a connection. Default 10 s. */
    public Builder timeout(Duration timeout) {
      this.timeout = Objects.requireNonNull(timeout);
      return this;
    }

    /** The exponential sequence's base and cap (the policy's 250 ms and 10 s by default). */
    public Builder backoff(Duration base, Duration cap) {
      this.backoffBase = Objects.requireNonNull(base);
      this.backoffCap = Objects.requireNonNull(cap);
      return this;
    }

    public WsGatewayClient build() {
      return new WsGatewayClient(this);
    }
  }

  // ---- public API ----

  public ClientState state() {
    return state;
  }

  /** The current connection's connect result; null before the first connect. */
  public ConnectInfo info() {
    return info;
  }

  public void addListener(ClientListener listener) {
    listeners.add(listener);
  }

  public void removeListener(ClientListener listener) {
    listeners.remove(listener);
  }

  /** Hears the workers' reply pushes to messages sent with {@link #send}. */
  public void addSendReplyListener(Consumer<SendReply> listener) {
    sendReplyListeners.add(listener);
  }

  /**
   * Connects (and keeps reconnecting). Completes when connected; fails only on a terminal outcome (a
   * terminal close code, or 4001 with no token supplier) or when {@link #disconnect()} is called first.
   */
  public CompletableFuture<Void> connect() {
    return call(() -> {
      CompletableFuture<Void> f = new CompletableFuture<>();
      if (state == ClientState.CONNECTED) {
        f.complete(null);
        return f;
      }
      connectWaiters.add(f);
      if (state == ClientState.DISCONNECTED || state == ClientState.CLOSED) {
        attempt = 0;
        setState(ClientState.CONNECTING, 0, "", null);
        dial();
      }
      return f;
    }).thenCompose(f -> f);
  }

  /**
   * Closes the connection with 1000 and stops reconnecting; the state becomes DISCONNECTED. Calls waiting
   * for a reply fail with code {@code disconnected}. Subscriptions stay, and are made again on {@link
   * #connect()}.
   */
  public CompletableFuture<Void> disconnect() {
    return call(() -> {
      stop(ClientState.DISCONNECTED, 1000, "disconnect", new WsGatewayException("disconnected", "disconnect() was called", 0));
      return null;
    });
  }

  /** Disconnects and ends the event thread; the client cannot be used again. */
  @Override
  public void close() {
    try {
      disconnect().get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      // closing anyway: the thread ends below
    } finally {
      loop.shutdown();
    }
  }

  /** Subscribes to channel (sent once connected), with no listener yet. */
  public Subscription subscribe(String channel) {
    return subscribe(channel, null, null);
  }

  public Subscription subscribe(String channel, SubscriptionListener listener) {
    return subscribe(channel, null, listener);
  }

  /**
   * Subscribes to channel with subscribe data for the backend's subscribe hook (may be null). Adding the
   * listener here, before the subscribe is sent, means it sees every publication. A second subscribe to the
   * same channel throws IllegalStateException.
   */
  public Subscription subscribe(String channel, Object data, SubscriptionListener listener) {
    Subscription sub = new Subscription(this, channel, data == null ? null : json(data));
    if (listener != null) {
      sub.addListener(listener);
    }
    CompletableFuture<Void> added = call(() -> {
      if (subs.containsKey(channel)) {
        throw new IllegalStateException("already subscribed to " + channel);
      }
      subs.put(channel, sub);
      if (state == ClientState.CONNECTED) {
        sendSubscribe(sub);
      }
      return null;
    });
    try {
      added.join();
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw e;
    }
    return sub;
  }

  /**
   * Publishes data (any value Gson serializes, or a JsonElement) with an automatic idempotency key, so a
   * publish retried after a dropped connection is published once.
   */
  public CompletableFuture<PublishResult> publish(String channel, Object data) {
    return publish(channel, data, null);
  }

  /** Publishes with the given idempotency key (a new random one when null). */
  public CompletableFuture<PublishResult> publish(String channel, Object data, String idempotencyKey) {
    String key = idempotencyKey != null ? idempotencyKey : UUID.randomUUID().toString();
    JsonElement d = json(data);
    return request(id -> Protocol.publish(id, channel, d, key), true).thenApply(Protocol::publishResult);
  }

  public CompletableFuture<PresenceResult> presence(String channel) {
    return request(id -> Protocol.channelOp(id, "presence", channel), true).thenApply(Protocol::presenceResult);
  }

  /** The latest limit publications (limit null: the server's default). */
  public CompletableFuture<HistoryResult> history(String channel, Integer limit) {
    return history(channel, null, limit);
  }

  /** Publications after offset since (exclusive), at most limit; either may be null. */
  public CompletableFuture<HistoryResult> history(String channel, Long since, Integer limit) {
    return request(id -> Protocol.history(id, channel, since, limit), true).thenApply(Protocol::historyResult);
  }

  /** Calls a backend rpc method; completes with the result's data. Not retried after a drop (not idempotent). */
  public CompletableFuture<JsonElement> rpc(String method, Object data) {
    JsonElement d = data == null ? null : json(data);
    return request(id -> Protocol.rpc(id, method, d), false).thenApply(r -> r.get("data"));
  }

  /** Sends a message to the backend workers' inbox topic, with an automatic idempotency key. */
  public CompletableFuture<SendResult> send(String topic, Object data) {
    String key = UUID.randomUUID().toString();
    JsonElement d = json(data);
    return request(id -> Protocol.send(id, topic, d, key), true).thenApply(Protocol::sendResult);
  }

  public CompletableFuture<Void> ping() {
    return request(id -> Protocol.command(id, "ping"), true).thenApply(r -> null);
  }

  // ---- internals: everything below runs on the event thread ----

  /** Runs fn on the event thread. */
  <T> CompletableFuture<T> call(Supplier<T> fn) {
    CompletableFuture<T> f = new CompletableFuture<>();
    if (Thread.currentThread() == loopThread) {
      // from a listener: run now, so that subscribe() called there cannot wait on its own thread
      try {
        f.complete(fn.get());
      } catch (RuntimeException e) {
        f.completeExceptionally(e);
      }
      return f;
    }
    try {
      loop.execute(() -> {
        try {
          f.complete(fn.get());
        } catch (RuntimeException e) {
          f.completeExceptionally(e);
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      f.completeExceptionally(new WsGatewayException("closed", "the client was closed", 0));
    }
    return f;
  }

  static JsonElement json(Object data) {
    if (data instanceof JsonElement e) {
      return e;
    }
    return Protocol.GSON.toJsonTree(data);
  }

  /** A command waiting to be sent or answered. */
  private final class Pending {
    final Function<Long, JsonObject> build;
    final boolean retry; // re-sent after a dropped connection
    final boolean internal; // the client's own (connect, subscribe, ping, refresh): dropped with the socket
    final CompletableFuture<JsonObject> future = new CompletableFuture<>();
    final Consumer<JsonObject> onResult;
    final Consumer<WsGatewayException> onError;
    ScheduledFuture<?> timer;
    long id;

    Pending(Function<Long, JsonObject> build, boolean retry, boolean internal,
        Consumer<JsonObject> onResult, Consumer<WsGatewayException> onError) {
      this.build = build;
      this.retry = retry;
      this.internal = internal;
      this.onResult = onResult;
      this.onError = onError;
    }

    void fail(WsGatewayException e) {
      if (timer != null) {
        timer.cancel(false);
      }
      if (onError != null) {
        onError.accept(e);
      }
      future.completeExceptionally(e);
    }

    void succeed(JsonObject r) {
      if (timer != null) {
        timer.cancel(false);
      }
      if (onResult != null) {
        onResult.accept(r);
      }
      future.complete(r);
    }
  }

  private CompletableFuture<JsonObject> request(Function<Long, JsonObject> build, boolean retry) {
    Pending p = new Pending(build, retry, false, null, null);
    call(() -> {
      if (state == ClientState.CLOSED) {
        p.fail(new WsGatewayException("closed", "the client is closed", 0));
        return null;
      }
      p.timer = loop.schedule(() -> {
        queue.remove(p);
        inflight.values().remove(p);
        p.fail(new WsGatewayException("timeout", "no reply within " + timeoutMs + " ms", 0));
      }, timeoutMs, TimeUnit.MILLISECONDS);
      if (state == ClientState.CONNECTED) {
        transmit(p);
      } else {
        queue.add(p);
      }
      return null;
    }).exceptionally(e -> {
      p.future.completeExceptionally(e);
      return null;
    });
    return p.future;
  }

  private void internal(Function<Long, JsonObject> build, Consumer<JsonObject> onResult, Consumer<WsGatewayException> onError) {
    transmit(new Pending(build, false, true, onResult, onError));
  }

  private void transmit(Pending p) {
    p.id = nextId++;
    JsonObject cmd = p.build.apply(p.id);
    inflight.put(p.id, p);
    try {
      socket.send(cmd.toString());
    } catch (RuntimeException e) {
      // the socket closed under us: onClose follows and re-queues or fails p
    }
  }

  private void setState(ClientState s, int code, String reason, WsGatewayException err) {
    setState(s, code, reason, err, false);
  }

  /** setState emits a state event when the state changes, or always with force (a close while connecting). */
  private void setState(ClientState s, int code, String reason, WsGatewayException err, boolean force) {
    if (state == s && !force) {
      return;
    }
    state = s;
    ClientStateEvent ev = new ClientStateEvent(s, code, reason == null ? "" : reason, err);
    for (ClientListener l : listeners) {
      try {
        l.onState(ev);
      } catch (RuntimeException e) {
        // a listener's bug must not stop the client
      }
    }
  }

  private void subState(Subscription sub, SubscriptionStateEvent ev) {
    if (sub.state == ev.state() && ev.state() != SubscriptionState.SUBSCRIBED) {
      return;
    }
    sub.state = ev.state();
    for (SubscriptionListener l : sub.listeners) {
      try {
        l.onState(ev);
      } catch (RuntimeException e) {
        // a listener's bug must not stop the client
      }
    }
  }

  private void dial() {
    dialTask = null;
    int gen = ++generation;
    CompletableFuture<String> tok;
    if (tokenSupplier != null && (token == null || needToken)) {
      tok = fetchToken();
    } else {
      tok = CompletableFuture.completedFuture(token);
    }
    tok.whenCompleteAsync((t, err) -> {
      if (gen != generation) {
        return;
      }
      if (err != null) {
        scheduleReconnect(ClosePolicy.Backoff.FULL); // the supplier failed: try again later
        return;
      }
      Socket s = new Socket(gen, t);
      socket = s;
      s.connect();
    }, loop);
  }

  private CompletableFuture<String> fetchToken() {
    if (tokenInFlight != null) {
      return tokenInFlight;
    }
    CompletableFuture<String> f = new CompletableFuture<>();
    tokenInFlight = f;
    CompletableFuture<String> got;
    try {
      got = tokenSupplier.get().toCompletableFuture();
    } catch (RuntimeException e) {
      got = CompletableFuture.failedFuture(e);
    }
    got.whenCompleteAsync((t, err) -> {
      tokenInFlight = null;
      if (err != null || t == null) {
        f.completeExceptionally(err != null ? err : new WsGatewayException("unauthorized", "the token supplier gave null", 0));
        return;
      }
      token = t;
      needToken = false;
      f.complete(t);
    }, loop);
    return f;
  }

  private void scheduleReconnect(ClosePolicy.Backoff backoff) {
    long delay = ClosePolicy.delayMs(backoff, attempt++, backoffBaseMs, backoffCapMs, random);
    dialTask = loop.schedule(this::dial, delay, TimeUnit.MILLISECONDS);
  }

  /** The WebSocket of one dial; its callbacks hop to the event thread and are ignored once stale. */
  private final class Socket extends WebSocketClient {
    final int gen;
    final String connectToken;

    Socket(int gen, String connectToken) {
      super(url, new Draft_6455(Collections.emptyList(), List.of(new org.java_websocket.protocols.Protocol(SUBPROTOCOL))), headers,
          (int) Math.min(Integer.MAX_VALUE, timeoutMs));
      this.gen = gen;
      this.connectToken = connectToken;
      setConnectionLostTimeout(0); // liveness is the client's own ping, measured on traffic
      setTcpNoDelay(true);
    }

    @Override
    public void onOpen(ServerHandshake handshake) {
      loop.execute(() -> opened(this));
    }

    @Override
    public void onMessage(String message) {
      lastTrafficMs = System.currentTimeMillis();
      loop.execute(() -> {
        if (gen == generation) {
          frame(message);
        }
      });
    }

    @Override
    public void onClose(int code, String reason, boolean remote) {
      loop.execute(() -> closed(this, code, reason));
    }

    @Override
    public void onError(Exception ex) {
      // onClose follows every error
    }
  }

  private void opened(Socket s) {
    if (s.gen != generation) {
      s.close();
      return;
    }
    lastTrafficMs = System.currentTimeMillis();
    internal(id -> Protocol.connect(id, s.connectToken), r -> connected(s, r), e -> {
      // unauthorized comes with a 4001 close, a hook's refusal with its own code: the close decides
    });
  }

  private void connected(Socket s, JsonObject r) {
    if (s.gen != generation) {
      return;
    }
    info = Protocol.connectInfo(r);
    connectedAtMs = System.currentTimeMillis();
    setState(ClientState.CONNECTED, 0, "", null);
    for (CompletableFuture<Void> f : connectWaiters) {
      f.complete(null);
    }
    connectWaiters.clear();
    long interval = Math.max(1, info.pingInterval() > 0 ? info.pingInterval() : 25) * 1000L;
    pingTask = loop.scheduleWithFixedDelay(() -> ping(s, interval), interval, interval, TimeUnit.MILLISECONDS);
    scheduleRefresh(s);
    for (Subscription sub : subs.values()) {
      sendSubscribe(sub);
    }
    while (!queue.isEmpty() && socket == s) {
      transmit(queue.poll());
    }
  }

  private void ping(Socket s, long intervalMs) {
    if (s.gen != generation) {
      return;
    }
    if (System.currentTimeMillis() - lastTrafficMs > 2 * intervalMs) {
      s.closeConnection(1006, "no traffic for twice the ping interval"); // onClose reconnects
      return;
    }
    internal(id -> Protocol.command(id, "ping"), null, null);
  }

  /** Schedules an in-band refresh before the token's exp: at the latest 10 s before, or half-way for short ones. */
  private void scheduleRefresh(Socket s) {
    if (refreshTask != null) {
      refreshTask.cancel(false);
      refreshTask = null;
    }
    long exp = expMs(token);
    if (tokenSupplier == null || exp <= 0) {
      return;
    }
    long left = exp - System.currentTimeMillis();
    long delay = Math.max(500, Math.min(left - 10_000, left / 2) > 0 ? Math.max(left - 10_000, left / 2) : 0);
    refreshTask = loop.schedule(() -> refresh(s), delay, TimeUnit.MILLISECONDS);
  }

  private void refresh(Socket s) {
    if (s.gen != generation || state != ClientState.CONNECTED) {
      return;
    }
    String old = token;
    needToken = true;
    fetchToken().whenCompleteAsync((t, err) -> {
      if (err != null || s.gen != generation) {
        return; // the server closes with 4001 at expiry, and the supplier is asked again
      }
      internal(id -> Protocol.refresh(id, t), r -> scheduleRefresh(s), e -> {
        token = old; // refused: the connection keeps the old token until its 4001
      });
    }, loop);
  }

  /** exp of a JWT in milliseconds, or 0 when it has none or is not a JWT. */
  static long expMs(String jwt) {
    if (jwt == null) {
      return 0;
    }
    String[] parts = jwt.split("\\.");
    if (parts.length != 3) {
      return 0;
    }
    try {
      String body = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8);
      JsonObject o = JsonParser.parseString(body).getAsJsonObject();
      return o.has("exp") ? o.get("exp").getAsLong() * 1000 : 0;
    } catch (RuntimeException e) {
      return 0;
    }
  }

  private void frame(String message) {
    for (String line : message.split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      Protocol.Incoming in;
      try {
        in = Protocol.decode(line);
      } catch (RuntimeException e) {
        continue; // not ours to fix: the contract says the server only writes JSON objects
      }
      if (in.push() != null) {
        push(in);
        continue;
      }
      Pending p = inflight.remove(in.id());
      if (p == null) {
        continue; // timed out already, or an error without id
      }
      if (in.error() != null) {
        p.fail(in.error());
      } else {
        p.succeed(in.result() != null ? in.result() : new JsonObject());
      }
    }
  }

  private void push(Protocol.Incoming in) {
    JsonObject o = in.raw();
    switch (in.push()) {
      case "pub" -> {
        Subscription sub = subs.get(Protocol.str(o, "channel"));
        if (sub != null && sub.state == SubscriptionState.SUBSCRIBED) {
          deliver(sub, Protocol.publication(o));
        }
      }
      case "unsub" -> {
        Subscription sub = subs.remove(Protocol.str(o, "channel"));
        if (sub != null) {
          sub.wanted = false;
          subState(sub, new SubscriptionStateEvent(SubscriptionState.UNSUBSCRIBED, false, false,
              Protocol.str(o, "reason"), null));
        }
      }
      case "reply" -> {
        SendReply r = Protocol.sendReply(o);
        for (Consumer<SendReply> l : sendReplyListeners) {
          try {
            l.accept(r);
          } catch (RuntimeException e) {
            // a listener's bug must not stop the client
          }
        }
      }
      default -> {
        // join, leave and pushes added later: not used by this library yet
      }
    }
  }

  /** Hands pub to the listeners unless it repeats an offset; a gap or a new epoch resubscribes with recovery. */
  private void deliver(Subscription sub, Publication pub) {
    if (sub.epoch != null && !sub.epoch.equals(pub.epoch())) {
      resubscribe(sub);
      return;
    }
    if (pub.offset() <= sub.offset) {
      return; // a duplicate: every offset is delivered once
    }
    if (pub.offset() > sub.offset + 1) {
      resubscribe(sub); // a gap: recover what is missing
      return;
    }
    sub.offset = pub.offset();
    for (SubscriptionListener l : sub.listeners) {
      try {
        l.onPublication(pub);
      } catch (RuntimeException e) {
        // a listener's bug must not stop the client
      }
    }
  }

  private void resubscribe(Subscription sub) {
    subState(sub, new SubscriptionStateEvent(SubscriptionState.SUBSCRIBING, false, false, "gap", null));
    internal(id -> Protocol.channelOp(id, "unsubscribe", sub.channel), null, null);
    sendSubscribe(sub);
  }

  private void sendSubscribe(Subscription sub) {
    boolean recover = sub.epoch != null;
    long from = sub.offset;
    String epoch = sub.epoch;
    subState(sub, new SubscriptionStateEvent(SubscriptionState.SUBSCRIBING, false, false, "", null));
    internal(id -> Protocol.subscribe(id, sub.channel, recover, from, epoch, sub.data), r -> {
      if (!sub.wanted || subs.get(sub.channel) != sub) {
        return;
      }
      boolean recovered = recover && Protocol.bool(r, "recovered");
      String newEpoch = Protocol.str(r, "epoch");
      long current = Protocol.num(r, "offset");
      List<Publication> missed = recovered ? Protocol.publications(r) : List.of();
      if (!recovered) {
        sub.offset = current; // a fresh start, or a resync: the app reloads on resyncNeeded()
      }
      sub.epoch = newEpoch;
      subState(sub, new SubscriptionStateEvent(SubscriptionState.SUBSCRIBED, recovered, recover, "", null));
      for (Publication p : missed) {
        deliver(sub, p);
      }
      sub.ready.complete(null);
    }, e -> {
      if (subs.get(sub.channel) != sub) {
        return;
      }
      subs.remove(sub.channel);
      sub.wanted = false;
      subState(sub, new SubscriptionStateEvent(SubscriptionState.UNSUBSCRIBED, false, false, e.getMessage(), e));
      sub.ready.completeExceptionally(e);
    });
  }

  CompletableFuture<Void> unsubscribe(Subscription sub) {
    return call(() -> {
      if (subs.get(sub.channel) == sub) {
        subs.remove(sub.channel);
        sub.wanted = false;
        if (state == ClientState.CONNECTED) {
          internal(id -> Protocol.channelOp(id, "unsubscribe", sub.channel), null, null);
        }
        subState(sub, new SubscriptionStateEvent(SubscriptionState.UNSUBSCRIBED, false, false, "unsubscribe()", null));
        sub.ready.completeExceptionally(new WsGatewayException("unsubscribed", "unsubscribe() was called", 0));
      }
      return null;
    });
  }

  private void cancelTimers() {
    for (ScheduledFuture<?> t : new ScheduledFuture<?>[] {pingTask, refreshTask, dialTask}) {
      if (t != null) {
        t.cancel(false);
      }
    }
    pingTask = refreshTask = dialTask = null;
  }

  /** The connection dropped or closed: re-queue or fail the calls, then follow the close-code policy. */
  private void closed(Socket s, int code, String reason) {
    if (s.gen != generation) {
      return;
    }
    socket = null;
    cancelTimers();
    if (code <= 0 || code == 1005) {
      code = 1006; // never connected, or no close frame
    }
    requeue(new WsGatewayException("disconnected", "connection closed with " + code + " " + reason, code));
    for (Subscription sub : subs.values()) {
      subState(sub, new SubscriptionStateEvent(SubscriptionState.SUBSCRIBING, false, false, "reconnecting", null));
    }
    if (connectedAtMs > 0 && System.currentTimeMillis() - connectedAtMs >= ClosePolicy.STABLE_AFTER_MS) {
      attempt = 0;
    }
    connectedAtMs = 0;
    ClosePolicy.Rule rule = ClosePolicy.rule(code);
    if (rule.action() == ClosePolicy.Action.STAY_CLOSED
        || (rule.action() == ClosePolicy.Action.NEW_TOKEN && tokenSupplier == null)) {
      stop(ClientState.CLOSED, code, reason, new WsGatewayException("closed", "the server closed the connection with " + code + " " + reason, code));
      return;
    }
    if (rule.action() == ClosePolicy.Action.NEW_TOKEN) {
      needToken = true;
    }
    // emitted even while already connecting, so that every close is seen with its code
    setState(ClientState.CONNECTING, code, reason, null, true);
    scheduleReconnect(rule.backoff());
  }

  /** In-flight calls: retried ones go back to the queue's front in their order, the others fail. */
  private void requeue(WsGatewayException e) {
    List<Pending> sent = new ArrayList<>(inflight.values());
    sent.sort((a, b) -> Long.compare(a.id, b.id));
    inflight.clear();
    for (int i = sent.size() - 1; i >= 0; i--) {
      Pending p = sent.get(i);
      if (p.internal) {
        continue;
      }
      if (p.retry) {
        queue.addFirst(p);
      } else {
        p.fail(e);
      }
    }
  }

  /** Stops for good (CLOSED) or until connect() (DISCONNECTED): closes the socket, fails every waiter. */
  private void stop(ClientState to, int code, String reason, WsGatewayException e) {
    generation++;
    // the state first: a caller whose future fails below sees the state that explains it
    setState(to, code, reason, to == ClientState.CLOSED ? e : null);
    cancelTimers();
    if (socket != null) {
      socket.close(1000, "client disconnect");
      socket = null;
    }
    List<Pending> all = new ArrayList<>(inflight.values());
    inflight.clear();
    all.addAll(queue);
    queue.clear();
    for (Pending p : all) {
      if (!p.internal) {
        p.fail(e);
      }
    }
    for (CompletableFuture<Void> f : connectWaiters) {
      f.completeExceptionally(e);
    }
    connectWaiters.clear();
    for (Iterator<Subscription> it = subs.values().iterator(); it.hasNext(); ) {
      Subscription sub = it.next();
      subState(sub, new SubscriptionStateEvent(SubscriptionState.SUBSCRIBING, false, false, reason, null));
      if (to == ClientState.CLOSED && !sub.ready.isDone()) {
        sub.ready.completeExceptionally(e);
        sub.ready = new CompletableFuture<>();
      }
    }
  }
}
