package dev.byop.docker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Reads the shared test bed's env file (until byop-testing's Testbed is on main, this module cannot depend on it). */
final class TestbedEnv {
  private TestbedEnv() {}

  static Map<String, String> load() {
    String dir = System.getenv().getOrDefault("BYOP_TESTBED_DIR", "/tmp/byop-testbed");
    Path env = Path.of(dir, "env");
    Map<String, String> m = new HashMap<>();
    try {
      for (String line : Files.readAllLines(env)) {
        int eq = line.indexOf('=');
        if (eq > 0 && !line.startsWith("#")) {
          String v = line.substring(eq + 1).trim();
          if (v.length() >= 2 && (v.startsWith("'") && v.endsWith("'") || v.startsWith("\"") && v.endsWith("\""))) {
            v = v.substring(1, v.length() - 1);
          }
          m.put(line.substring(0, eq).trim(), v);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("test bed env file " + env + " missing: run scripts/testbed start", e);
    }
    return m;
  }

  static String get(String key) {
    String v = load().get(key);
    if (v == null) {
      throw new IllegalStateException("test bed env has no " + key);
    }
    return v;
  }
}
