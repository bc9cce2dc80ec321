package io.wsgateway.client;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Real gateways for the tests, started through bin/testenv (service/cmd/testenv: the Go harness): the path
 * comes from WSG_TESTENV and the gateway binary from WSG_GATEWAY (make test-java sets both). Each process's
 * log goes to target/testenv-logs/NAME/. Tokens are HS256 JWTs signed here. (The tests use java.net.http
 * for the backend API; the library itself does not.)
 */
final class Testenv implements AutoCloseable {
  static final String SECRET = "java-integration-secret";
  static final String API_KEY = "java-integration-key";

  private final Process proc;
  private final OutputStream stdin;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
  final JsonObject info;
  final Path logs;
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private Testenv(String name, List<String> flags, List<String> gatewayArgs) throws Exception {
    String bin = System.getenv("WSG_TESTENV");
    if (bin == null || bin.isEmpty()) {
      throw new IllegalStateException("WSG_TESTENV is not set: it must name bin/testenv (make build), "
          + "and WSG_GATEWAY bin/wsgateway; `make test-java` sets both");
    }
    if (!Files.isExecutable(Path.of(bin))) {
      throw new IllegalStateException("WSG_TESTENV=" + bin + " is not an executable file (make build makes bin/testenv)");
    }
    logs = Path.of("target", "testenv-logs", name).toAbsolutePath();
    Files.createDirectories(logs);
    List<String> cmd = new ArrayList<>(List.of(bin, "-logs", logs.toString()));
    cmd.addAll(flags);
    String gw = System.getenv("WSG_GATEWAY");
    if (gw != null && !gw.isEmpty()) {
      cmd.add("-gateway");
      cmd.add(gw);
    }
    cmd.add("--");
    cmd.addAll(List.of("--jwt-secret", SECRET, "--api-key", API_KEY, "--jwt-leeway", "0s"));
    cmd.addAll(gatewayArgs);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(logs.resolve("testenv.stderr").toFile());
    Path root = Path.of(System.getProperty("wsg.testdata", "../../service/protocol/testdata")).resolve("../../..").normalize();
    pb.directory(root.toFile());
    proc = pb.start();
    stdin = proc.getOutputStream();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(proc.getInputStream(), StandardCharsets.UTF_8))) {
        for (String l; (l = r.readLine()) != null; ) {
          lines.add(l);
        }
      } catch (IOException e) {
        // the process ended
      }
    }, "testenv-stdout");
    reader.setDaemon(true);
    reader.start();
    info = next(180, "the start");
  }

  /** start starts testenv with flags (-nodes 2 -redis -lb ...) and the given extra gateway flags. */
  static Testenv start(String name, List<String> flags, String... gatewayArgs) throws Exception {
    return new Testenv(name, flags, List.of(gatewayArgs));
  }

  private JsonObject next(long seconds, String what) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (true) {
      String l = lines.poll(200, TimeUnit.MILLISECONDS);
      if (l != null) {
        return JsonParser.parseString(l).getAsJsonObject();
      }
      if (!proc.isAlive() && lines.isEmpty()) {
        throw new IllegalStateException("testenv exited (" + proc.exitValue() + ") before answering " + what
            + ":\n" + stderrTail());
      }
      if (System.nanoTime() > end) {
        proc.destroyForcibly();
        throw new IllegalStateException("testenv: no answer to " + what + " within " + seconds + " s; see " + logs);
      }
    }
  }

  private String stderrTail() {
    try {
      String s = Files.readString(logs.resolve("testenv.stderr"));
      return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
    } catch (IOException e) {
      return "(no stderr: " + e + ")";
    }
  }

  /** command sends one command ({"op":"signal","node":0,"signal":"TERM"}) and returns its answer. */
  JsonObject command(String json) throws Exception {
    stdin.write((json + "\n").getBytes(StandardCharsets.UTF_8));
    stdin.flush();
    JsonObject a = next(90, json);
    if (a.has("error")) {
      throw new IllegalStateException("testenv " + json + ": " + a.get("error").getAsString());
    }
    return a;
  }

  JsonObject node(int i) {
    return info.getAsJsonArray("nodes").get(i).getAsJsonObject();
  }

  String ws(int i) {
    return node(i).get("ws").getAsString();
  }

  /** api calls the backend API of node i: GET without body, else POST; returns status and body. */
  static Map.Entry<Integer, JsonObject> api(String base, String path, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/api/v1/" + path))
        .timeout(Duration.ofSeconds(10)).header("Authorization", "apikey " + API_KEY);
    b = body == null ? b.GET() : b.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
    HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    return Map.entry(r.statusCode(), JsonParser.parseString(r.body()).getAsJsonObject());
  }

  Map.Entry<Integer, JsonObject> api(int node, String path, String body) throws Exception {
    return api(node(node).get("api").getAsString(), path, body);
  }

  /** token signs an HS256 JWT for sub, valid for ttl seconds, allowing chat:* both ways. */
  static String token(String sub, long ttlSeconds) {
    return token(sub, ttlSeconds, SECRET);
  }

  static String token(String sub, long ttlSeconds, String secret) {
    long now = System.currentTimeMillis() / 1000;
    String body = "{\"sub\":\"" + sub + "\",\"iat\":" + now + ",\"exp\":" + (now + ttlSeconds)
        + ",\"subscribe\":[\"chat:*\"],\"publish\":[\"chat:*\"]}";
    Base64.Encoder enc = Base64.getUrlEncoder().withoutPadding();
    String unsigned = enc.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8)) + "."
        + enc.encodeToString(body.getBytes(StandardCharsets.UTF_8));
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return unsigned + "." + enc.encodeToString(mac.doFinal(unsigned.getBytes(StandardCharsets.US_ASCII)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** waitFor polls cond every 20 ms for at most seconds; it throws with what when cond stays false. */
  static void waitFor(String what, long seconds, BooleanSupplier cond) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("waited " + seconds + " s for " + what);
      }
      Thread.sleep(20);
    }
  }

  /** close ends stdin, so testenv stops everything it started; it waits at most 60 s. */
  @Override
  public void close() {
    try {
      stdin.close();
    } catch (IOException e) {
      // already closed
    }
    try {
      if (!proc.waitFor(60, TimeUnit.SECONDS)) {
        proc.destroyForcibly();
      }
    } catch (InterruptedException e) {
      proc.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
