package io.wsgateway.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The shared wire vectors: every reply, error and push decodes into this library's types with the values
 * shown, and what the library encodes for each accepted command vector is that command.
 */
class VectorsTest {

  static JsonObject obj(String line) {
    return JsonParser.parseString(line).getAsJsonObject();
  }

  @Test
  void repliesDecode() throws Exception {
    Set<String> ops = new HashSet<>();
    for (JsonElement e : TestData.read("vectors.json").getAsJsonArray("replies")) {
      JsonObject v = e.getAsJsonObject();
      String name = v.get("name").getAsString();
      String op = v.get("op").getAsString();
      ops.add(op);
      Protocol.Incoming in = Protocol.decode(v.get("line").getAsString());
      JsonObject want = obj(v.get("line").getAsString());
      JsonObject r = want.getAsJsonObject("result");
      assertEquals(want.get("id").getAsLong(), in.id(), name);
      assertNull(in.error(), name);
      assertNotNull(in.result(), name);
      switch (op) {
        case "connect" -> {
          ConnectInfo c = Protocol.connectInfo(in.result());
          assertEquals(r.get("client").getAsString(), c.client(), name);
          assertEquals(r.get("user").getAsString(), c.user(), name);
          assertEquals(r.get("node").getAsString(), c.node(), name);
          assertEquals(r.get("zone").getAsString(), c.zone(), name);
          assertEquals(r.get("ping_interval").getAsInt(), c.pingInterval(), name);
          assertEquals(r.get("data"), c.data(), name);
        }
        case "subscribe" -> {
          assertEquals(r.get("offset").getAsLong(), Protocol.num(in.result(), "offset"), name);
          assertEquals(r.get("recovered").getAsBoolean(), Protocol.bool(in.result(), "recovered"), name);
          assertEquals(r.getAsJsonArray("publications").size(), Protocol.publications(in.result()).size(), name);
          checkPublications(r, Protocol.publications(in.result()), name);
        }
        case "publish" -> {
          PublishResult p = Protocol.publishResult(in.result());
          assertEquals(new PublishResult(r.get("offset").getAsLong(), r.get("epoch").getAsString()), p, name);
        }
        case "presence" -> {
          PresenceResult p = Protocol.presenceResult(in.result());
          assertEquals(r.getAsJsonArray("users").size(), p.users().size(), name);
          assertEquals(r.get("count").getAsLong(), p.count(), name);
          assertEquals(r.has("truncated"), p.truncated(), name);
          for (int i = 0; i < p.users().size(); i++) {
            JsonObject u = r.getAsJsonArray("users").get(i).getAsJsonObject();
            assertEquals(new PresenceResult.User(u.get("user").getAsString(), u.get("client").getAsString(),
                u.get("node").getAsString()), p.users().get(i), name);
          }
        }
        case "history" -> {
          HistoryResult h = Protocol.historyResult(in.result());
          assertEquals(r.get("offset").getAsLong(), h.offset(), name);
          assertEquals(r.get("epoch").getAsString(), h.epoch(), name);
          assertEquals(r.has("truncated"), h.truncated(), name);
          checkPublications(r, h.publications(), name);
        }
        case "rpc" -> assertEquals(r.get("data"), in.result().get("data"), name);
        case "send" -> assertEquals(new SendResult(r.get("id").getAsString(), r.get("duplicate").getAsBoolean()),
            Protocol.sendResult(in.result()), name);
        case "unsubscribe", "ping", "refresh" -> assertEquals(0, in.result().size(), name);
        default -> fail("a reply vector for op " + op + " that this library does not know: " + name);
      }
    }
    assertEquals(Set.of("connect", "subscribe", "unsubscribe", "publish", "presence", "history", "ping",
        "refresh", "rpc", "send"), ops);
  }

  static void checkPublications(JsonObject r, java.util.List<Publication> got, String name) {
    var want = r.getAsJsonArray("publications");
    assertEquals(want.size(), got.size(), name);
    for (int i = 0; i < got.size(); i++) {
      JsonObject p = want.get(i).getAsJsonObject();
      Publication g = got.get(i);
      assertEquals(p.get("channel").getAsString(), g.channel(), name);
      assertEquals(p.get("offset").getAsLong(), g.offset(), name);
      assertEquals(p.get("epoch").getAsString(), g.epoch(), name);
      assertEquals(p.get("data"), g.data(), name);
      assertEquals(p.has("user") ? p.get("user").getAsString() : null, g.user(), name);
    }
  }

  @Test
  void errorsDecode() throws Exception {
    for (JsonElement e : TestData.read("vectors.json").getAsJsonArray("errors")) {
      JsonObject v = e.getAsJsonObject();
      String name = v.get("name").getAsString();
      JsonObject want = obj(v.get("line").getAsString());
      Protocol.Incoming in = Protocol.decode(v.get("line").getAsString());
      assertNull(in.result(), name);
      assertNotNull(in.error(), name);
      assertEquals(want.getAsJsonObject("error").get("code").getAsString(), in.error().code(), name);
      assertTrue(in.error().getMessage().contains(want.getAsJsonObject("error").get("message").getAsString()), name);
      assertEquals(want.has("id") ? want.get("id").getAsLong() : 0, in.id(), name);
    }
  }

  @Test
  void pushesDecode() throws Exception {
    for (JsonElement e : TestData.read("vectors.json").getAsJsonArray("pushes")) {
      JsonObject v = e.getAsJsonObject();
      String name = v.get("name").getAsString();
      JsonObject want = obj(v.get("line").getAsString());
      Protocol.Incoming in = Protocol.decode(v.get("line").getAsString());
      assertEquals(want.get("push").getAsString(), in.push(), name);
      switch (in.push()) {
        case "pub" -> {
          Publication p = Protocol.publication(in.raw());
          assertEquals(want.get("channel").getAsString(), p.channel(), name);
          assertEquals(want.get("offset").getAsLong(), p.offset(), name);
          assertEquals(want.get("epoch").getAsString(), p.epoch(), name);
          assertEquals(want.get("data"), p.data(), name);
          assertEquals(want.has("user") ? want.get("user").getAsString() : null, p.user(), name);
        }
        case "unsub" -> assertEquals(want.get("reason").getAsString(), Protocol.str(in.raw(), "reason"), name);
        case "reply" -> {
          SendReply r = Protocol.sendReply(in.raw());
          assertEquals(want.get("id").getAsString(), r.id(), name);
          assertEquals(want.get("data"), r.data(), name);
          assertEquals(want.has("error") ? want.getAsJsonObject("error").get("code").getAsString() : null,
              r.error() == null ? null : r.error().code(), name);
        }
        case "join", "leave" -> assertEquals(want.get("user").getAsString(), Protocol.str(in.raw(), "user"), name);
        default -> fail("a push vector of kind " + in.push() + " that this library does not know: " + name);
      }
    }
  }

  /** The library's encoding of each accepted command vector, built from the vector's fields. */
  static JsonObject encode(JsonObject v) {
    long id = v.get("id").getAsLong();
    String op = v.get("op").getAsString();
    String ch = v.has("channel") ? v.get("channel").getAsString() : null;
    return switch (op) {
      case "connect" -> Protocol.connect(id, v.has("token") ? v.get("token").getAsString() : null);
      case "subscribe" -> Protocol.subscribe(id, ch, v.has("recover"), v.has("offset") ? v.get("offset").getAsLong() : 0,
          v.has("epoch") ? v.get("epoch").getAsString() : null, v.get("data"));
      case "unsubscribe", "presence" -> Protocol.channelOp(id, op, ch);
      case "publish" -> Protocol.publish(id, ch, v.get("data"),
          v.has("idempotency_key") ? v.get("idempotency_key").getAsString() : null);
      case "history" -> Protocol.history(id, ch, v.has("since") ? v.get("since").getAsLong() : null,
          v.has("limit") ? v.get("limit").getAsInt() : null);
      case "ping" -> Protocol.command(id, "ping");
      case "refresh" -> Protocol.refresh(id, v.get("token").getAsString());
      case "rpc" -> Protocol.rpc(id, v.get("method").getAsString(), v.get("data"));
      case "send" -> Protocol.send(id, v.get("topic").getAsString(), v.get("data"),
          v.has("idempotency_key") ? v.get("idempotency_key").getAsString() : null);
      default -> throw new AssertionError("no encoder for op " + op);
    };
  }

  @Test
  void commandsEncodeAsTheAcceptedVectors() throws Exception {
    Set<String> ops = new HashSet<>();
    for (JsonElement e : TestData.read("vectors.json").getAsJsonArray("commands")) {
      JsonObject v = e.getAsJsonObject();
      if (v.has("error")) {
        continue; // malformed on purpose: the library never writes those
      }
      String name = v.get("name").getAsString();
      JsonObject want = obj(v.get("line").getAsString());
      // Fields the library does not write (presence's limit, ping's trace) are not part of its API.
      JsonObject comparable = want.deepCopy();
      if (want.get("op").getAsString().equals("presence")) {
        comparable.remove("limit");
      }
      if (want.get("op").getAsString().equals("ping")) {
        comparable.remove("trace");
      }
      ops.add(want.get("op").getAsString());
      assertEquals(comparable, encode(want), name);
    }
    assertEquals(Set.of("connect", "subscribe", "unsubscribe", "publish", "presence", "history", "ping",
        "refresh", "rpc", "send"), ops);
  }

  @Test
  void publishOfNullCarriesData() {
    // the server refuses a publish without data: null must be written, not left out
    JsonObject c = obj(Protocol.publish(5, "chat:a", WsGatewayClient.json(null), "k").toString());
    assertTrue(c.has("data") && c.get("data").isJsonNull(), c.toString());
  }
}
