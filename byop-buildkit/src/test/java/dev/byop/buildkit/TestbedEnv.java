package dev.byop.buildkit;

import dev.byop.testing.Testbed;

/** Test bed values by their env-file key, through byop-testing's {@link Testbed}. */
final class TestbedEnv {
  private TestbedEnv() {}

  static String get(String key) {
    return Testbed.get().value(key);
  }
}
