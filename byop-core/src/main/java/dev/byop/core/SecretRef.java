package dev.byop.core;

import dev.byop.core.internal.Checks;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;

/**
 * Where a secret comes from: an environment variable, a file, or (only when built in code) a value. Configuration
 * files can hold only references, so a secret never has to be written into them.
 */
public sealed interface SecretRef {

  /** Reads the secret now; fails with a {@link ConfigException} naming the reference when it is missing. */
  Secret resolve();

  /** A short description that never contains the secret, e.g. {@code env:REGISTRY_PASSWORD}. */
  String describe();

  static SecretRef env(String name) {
    return new Env(Checks.envName("secret env name", name), System::getenv);
  }

  static SecretRef file(Path path) {
    return new File(Checks.notNull("secret file", path));
  }

  static SecretRef value(Secret secret) {
    return new Value(Checks.notNull("secret", secret));
  }

  static SecretRef value(String secret) {
    return value(Secret.of(secret));
  }

  /** A secret read from an environment variable. */
  record Env(String name, Function<String, String> environment) implements SecretRef {
    @Override
    public Secret resolve() {
      String v = environment.apply(name);
      if (v == null) throw new ConfigException(describe(), "environment variable " + name + " is not set");
      return Secret.of(v);
    }

    @Override
    public String describe() {
      return "env:" + name;
    }

    @Override
    public String toString() {
      return describe();
    }

    /** For tests and embedding: resolves against the given variables instead of the process environment. */
    public static Env in(String name, Map<String, String> variables) {
      return new Env(Checks.envName("secret env name", name), variables::get);
    }
  }

  /** A secret read from a file (trailing newline removed), e.g. a mounted Kubernetes or Docker secret. */
  record File(Path path) implements SecretRef {
    @Override
    public Secret resolve() {
      try {
        String s = Files.readString(path, StandardCharsets.UTF_8);
        if (s.endsWith("\r\n")) s = s.substring(0, s.length() - 2);
        else if (s.endsWith("\n")) s = s.substring(0, s.length() - 1);
        return Secret.of(s);
      } catch (IOException e) {
        throw new ConfigException(describe(), "secret file cannot be read (" + e.getClass().getSimpleName() + ")");
      }
    }

    @Override
    public String describe() {
      return "file:" + path;
    }

    @Override
    public String toString() {
      return describe();
    }
  }

  /** A secret given in code. */
  record Value(Secret secret) implements SecretRef {
    @Override
    public Secret resolve() {
      return secret;
    }

    @Override
    public String describe() {
      return "value:******";
    }

    @Override
    public String toString() {
      return describe();
    }
  }
}
