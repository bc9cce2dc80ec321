package io.wsgateway.client;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.List;

/**
 * The wire format of wsgateway.v1 (CONTRACT.md section 2): commands out, replies and pushes in. Stateless.
 * Decoders accept any valid JSON with the contract's shapes and ignore unknown fields, since the server may
 * add some.
 */
final class Protocol {
  private Protocol() {}

  /** serializeNulls: a publish of null must carry "data":null, not omit it (the server refuses that). */
  static final Gson GSON = new GsonBuilder().serializeNulls().disableHtmlEscaping().create();

  // ---- commands ----

  static JsonObject command(long id, String op) {
    JsonObject o = new JsonObject();
    o.addProperty("id", id);
    o.addProperty("op", op);
    return o;
  }

  static JsonObject connect(long id, String token) {
    JsonObject o = command(id, "connect");
    if (token != null) {
      o.addProperty("token", token);
    }
    return o;
  }

  static JsonObject subscribe(long id, String channel, boolean recover, long offset, String epoch, JsonElement data) {
    JsonObject o = command(id, "subscribe");
    o.addProperty("channel", channel);
    if (recover) {
      o.addProperty("recover", true);
      o.addProperty("offset", offset);
      o.addProperty("epoch", epoch);
    }
    if (data != null) {
      o.add("data", data);
    }
    return o;
  }

  static JsonObject channelOp(long id, String op, String channel) {
    JsonObject o = command(id, op);
    o.addProperty("channel", channel);
    return o;
  }

  static JsonObject publish(long id, String channel, JsonElement data, String idempotencyKey) {
    JsonObject o = channelOp(id, "publish", channel);
    o.add("data", data == null ? JsonNull.INSTANCE : data);
    if (idempotencyKey != null) {
      o.addProperty("idempotency_key", idempotencyKey);
    }
    return o;
  }

  static JsonObject history(long id, String channel, Long since, Integer limit) {
    JsonObject o = channelOp(id, "history", channel);
    if (since != null) {
      o.addProperty("since", since);
    }
    if (limit != null) {
      o.addProperty("limit", limit);
    }
    return o;
  }

  static JsonObject refresh(long id, String token) {
    JsonObject o = command(id, "refresh");
    o.addProperty("token", token);
    return o;
  }

  static JsonObject rpc(long id, String method, JsonElement data) {
    JsonObject o = command(id, "rpc");
    o.addProperty("method", method);
    if (data != null) {
      o.add("data", data);
    }
    return o;
  }

  static JsonObject send(long id, String topic, JsonElement data, String idempotencyKey) {
    JsonObject o = command(id, "send");
    o.addProperty("topic", topic);
    o.add("data", data == null ? JsonNull.INSTANCE : data);
    if (idempotencyKey != null) {
      o.addProperty("idempotency_key", idempotencyKey);
    }
    return o;
  }

  // ---- incoming ----

  /** One incoming line: a reply (id set, result or error) or a push (push set). */
  record Incoming(long id, JsonObject result, WsGatewayException error, String push, JsonObject raw) {}

  /** decode reads one line of a frame; it throws IllegalArgumentException on a line that is not an object. */
  static Incoming decode(String line) {
    JsonElement e = JsonParser.parseString(line);
    if (!e.isJsonObject()) {
      throw new IllegalArgumentException("not a JSON object: " + line);
    }
    JsonObject o = e.getAsJsonObject();
    String push = str(o, "push");
    if (push != null) {
      return new Incoming(0, null, null, push, o);
    }
    long id = o.has("id") && !o.get("id").isJsonNull() ? o.get("id").getAsLong() : 0;
    WsGatewayException err = null;
    if (o.has("error") && o.get("error").isJsonObject()) {
      err = error(o.getAsJsonObject("error"), 0);
    }
    JsonObject result = o.has("result") && o.get("result").isJsonObject() ? o.getAsJsonObject("result") : null;
    return new Incoming(id, result, err, null, o);
  }

  static WsGatewayException error(JsonObject e, int closeCode) {
    String code = str(e, "code");
    String msg = str(e, "message");
    return new WsGatewayException(code == null ? "internal" : code, msg == null ? "" : msg, closeCode);
  }

  static ConnectInfo connectInfo(JsonObject r) {
    return new ConnectInfo(str(r, "client"), str(r, "user"), str(r, "node"), str(r, "zone"),
        (int) num(r, "ping_interval"), r.get("data"));
  }

  static Publication publication(JsonObject p) {
    return new Publication(str(p, "channel"), num(p, "offset"), str(p, "epoch"),
        p.has("data") ? p.get("data") : JsonNull.INSTANCE, str(p, "user"));
  }

  static List<Publication> publications(JsonObject r) {
    List<Publication> out = new ArrayList<>();
    JsonElement a = r.get("publications");
    if (a != null && a.isJsonArray()) {
      for (JsonElement p : a.getAsJsonArray()) {
        out.add(publication(p.getAsJsonObject()));
      }
    }
    return List.copyOf(out);
  }

  static PublishResult publishResult(JsonObject r) {
    return new PublishResult(num(r, "offset"), str(r, "epoch"));
  }

  static HistoryResult historyResult(JsonObject r) {
    return new HistoryResult(num(r, "offset"), str(r, "epoch"), publications(r), bool(r, "truncated"));
  }

  static PresenceResult presenceResult(JsonObject r) {
    List<PresenceResult.User> users = new ArrayList<>();
    JsonElement a = r.get("users");
    if (a != null && a.isJsonArray()) {
      for (JsonElement u : (JsonArray) a) {
        JsonObject o = u.getAsJsonObject();
        users.add(new PresenceResult.User(str(o, "user"), str(o, "client"), str(o, "node")));
      }
    }
    long count = r.has("count") ? num(r, "count") : users.size();
    return new PresenceResult(List.copyOf(users), count, bool(r, "truncated"));
  }

  static SendResult sendResult(JsonObject r) {
    return new SendResult(str(r, "id"), bool(r, "duplicate"));
  }

  static SendReply sendReply(JsonObject push) {
    WsGatewayException err = push.has("error") && push.get("error").isJsonObject()
        ? error(push.getAsJsonObject("error"), 0) : null;
    return new SendReply(str(push, "id"), push.get("data"), err);
  }

  static String str(JsonObject o, String key) {
    JsonElement e = o.get(key);
    return e == null || e.isJsonNull() ? null : e.getAsString();
  }

  static long num(JsonObject o, String key) {
    JsonElement e = o.get(key);
    return e == null || e.isJsonNull() ? 0 : e.getAsLong();
  }

  static boolean bool(JsonObject o, String key) {
    JsonElement e = o.get(key);
    return e != null && !e.isJsonNull() && e.getAsBoolean();
  }
}
