package io.wsgateway.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * rpc against the reference backend (examples/backend, served by testenv -hooks-example): connect by
 * session cookie (a header on the upgrade), then rpc resolves to the backend's data.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HooksTest {

  @Test
  void rpcResolvesToTheBackendsData() throws Exception {
    try (Testenv env = Testenv.start("hooks", List.of("-nodes", "1", "-hooks-example"), "--drain-delay", "0s");
        WsGatewayClient c = WsGatewayClient.builder(env.ws(0)).header("Cookie", "session=s1")
            .timeout(Duration.ofSeconds(5)).build()) {
      c.connect().get(10, TimeUnit.SECONDS);
      assertEquals("alice", c.info().user());
      assertEquals(JsonParser.parseString("{\"text\":\"HI THERE\",\"keep\":7}"),
          c.rpc("echo:upper", Map.of("text", "hi there", "keep", 7)).get(10, TimeUnit.SECONDS));
      assertEquals("PLAIN", c.rpc("echo:upper", "plain").get(10, TimeUnit.SECONDS).getAsString());
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> c.rpc("echo:nope", 1).get(10, TimeUnit.SECONDS));
      assertTrue(e.getCause() instanceof WsGatewayException we && we.code().equals("not_found"), e.toString());
    }
  }
}
