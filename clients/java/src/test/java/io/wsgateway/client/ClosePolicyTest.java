package io.wsgateway.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** ClosePolicy agrees with service/protocol/testdata/close_policy.json on every code 1000..4999. */
class ClosePolicyTest {

  @Test
  void everyCodeFollowsThePolicyFile() throws Exception {
    JsonObject policy = TestData.read("close_policy.json");
    JsonObject def = policy.getAsJsonObject("default");
    int checked = 0;
    for (int code = 1000; code <= 4999; code++) {
      JsonObject want = def;
      for (JsonElement e : policy.getAsJsonArray("rules")) {
        JsonObject r = e.getAsJsonObject();
        if (r.get("from").getAsInt() <= code && code <= r.get("to").getAsInt()) {
          want = r;
          break;
        }
      }
      ClosePolicy.Rule got = ClosePolicy.rule(code);
      String action = want.get("action").getAsString();
      assertEquals(action.toUpperCase(), got.action().name(), "action of close code " + code);
      String backoff = want.has("backoff") ? want.get("backoff").getAsString().toUpperCase() : null;
      assertEquals(backoff, got.backoff() == null ? null : got.backoff().name(), "backoff class of close code " + code);
      checked++;
    }
    assertEquals(4000, checked);
  }

  @Test
  void backoffParametersFollowThePolicyFile() throws Exception {
    JsonObject b = TestData.read("close_policy.json").getAsJsonObject("backoff");
    assertEquals(b.get("base_ms").getAsLong(), ClosePolicy.BASE_MS, "base_ms");
    assertEquals(b.get("cap_ms").getAsLong(), ClosePolicy.CAP_MS, "cap_ms");
    assertEquals(b.get("stable_after_ms").getAsLong(), ClosePolicy.STABLE_AFTER_MS, "stable_after_ms");
    JsonObject classes = b.getAsJsonObject("classes");
    assertEquals(classes.size(), ClosePolicy.Backoff.values().length, "backoff classes: " + classes.keySet());
    for (ClosePolicy.Backoff k : ClosePolicy.Backoff.values()) {
      JsonObject c = classes.getAsJsonObject(k.name().toLowerCase());
      assertEquals(c.get("min_delay_ms").getAsLong(), k.minDelayMs(), k + " min_delay_ms");
      assertEquals(c.get("window_ms").getAsLong(), k.windowMs(), k + " window_ms");
    }
  }

  @Test
  void delaysStayInsideTheFullJitterWindow() {
    Random rnd = new Random(1);
    for (ClosePolicy.Backoff k : ClosePolicy.Backoff.values()) {
      for (int n = 0; n < 60; n++) {
        long span = Math.max(k.windowMs(), Math.min(ClosePolicy.CAP_MS, n < 40 ? ClosePolicy.BASE_MS << n : ClosePolicy.CAP_MS));
        long min = Long.MAX_VALUE;
        long max = 0;
        for (int i = 0; i < 200; i++) {
          long d = ClosePolicy.delayMs(k, n, ClosePolicy.BASE_MS, ClosePolicy.CAP_MS, rnd);
          assertTrue(d >= k.minDelayMs() && d < k.minDelayMs() + span, k + " attempt " + n + ": " + d);
          min = Math.min(min, d);
          max = Math.max(max, d);
        }
        // full jitter: the draws cover the window, not a fixed point near its top
        assertTrue(min < k.minDelayMs() + span / 4 && max > k.minDelayMs() + span * 3 / 4,
            k + " attempt " + n + ": draws " + min + ".." + max + " of a " + span + " ms window");
      }
    }
  }
}
