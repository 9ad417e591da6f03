package dev.byop.registry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Reads the shared test bed's {@code env} file (KEY=VALUE lines written by {@code scripts/testbed start}); stands in
 * until {@code dev.byop.testing.Testbed} is on main.
 */
final class Bed {
  private static Map<String, String> values;

  private Bed() {}

  static synchronized String get(String key) {
    if (values == null) {
      String dir = System.getenv().getOrDefault("BYOP_TESTBED_DIR", "/tmp/byop-testbed");
      Path env = Path.of(dir, "env");
      Map<String, String> m = new HashMap<>();
      try {
        for (String line : Files.readAllLines(env)) {
          int eq = line.indexOf('=');
          if (line.isBlank() || line.startsWith("#") || eq < 0) continue;
          String v = line.substring(eq + 1).trim();
          if (v.length() >= 2 && (v.startsWith("'") && v.endsWith("'") || v.startsWith("\"") && v.endsWith("\""))) {
            v = v.substring(1, v.length() - 1);
          }
          m.put(line.substring(0, eq).trim(), v);
        }
      } catch (IOException e) {
        throw new UncheckedIOException("the test bed is not up (run scripts/testbed start): " + env, e);
      }
      values = m;
    }
    String v = values.get(key);
    if (v == null) throw new IllegalStateException("test bed env has no " + key);
    return v;
  }
}
