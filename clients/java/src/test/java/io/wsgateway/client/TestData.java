package io.wsgateway.client;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The shared data of service/protocol/testdata (the pom passes its path as wsg.testdata). */
final class TestData {
  private TestData() {}

  static JsonObject read(String name) throws IOException {
    String dir = System.getProperty("wsg.testdata", "../../service/protocol/testdata");
    Path p = Path.of(dir, name);
    if (!Files.isRegularFile(p)) {
      throw new IllegalStateException("shared test data " + p.toAbsolutePath() + " is missing (run from clients/java of the repository)");
    }
    return JsonParser.parseString(Files.readString(p)).getAsJsonObject();
  }
}
