package dev.byop.core;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A section of configuration with typed accessors. Each value remembers where it came from, so an error names the
 * file, line and dotted key. Secrets are read only as references ({@code {env: NAME}} or {@code {file: PATH}}).
 */
public final class Settings {
  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

  /** A configuration value and where it was written. */
  record Node(@Nullable Object value, int line) {}

  private final @Nullable String source;
  private final String path;
  private final int line;
  private final Map<String, Node> values;

  Settings(@Nullable String source, String path, int line, Map<String, Node> values) {
    this.source = source;
    this.path = path;
    this.line = line;
    this.values = values;
  }

  /** An empty section. */
  public static Settings empty() {
    return new Settings(null, "", 0, Map.of());
  }

  /**
   * Settings built in code from plain values: strings, numbers, booleans, {@link Duration}s, {@link SecretRef}s,
   * lists and nested maps.
   */
  public static Settings of(Map<String, ?> map) {
    return new Settings(null, "", 0, wrap(map));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Node> wrap(Map<String, ?> map) {
    Map<String, Node> out = new LinkedHashMap<>();
    map.forEach((k, v) -> out.put(k, new Node(wrapValue(v), 0)));
    return out;
  }

  @SuppressWarnings("unchecked")
  private static @Nullable Object wrapValue(@Nullable Object v) {
    if (v instanceof Map<?, ?> m) return wrap((Map<String, ?>) m);
    if (v instanceof List<?> l) {
      List<Node> nodes = new ArrayList<>();
      for (Object o : l) nodes.add(new Node(wrapValue(o), 0));
      return nodes;
    }
    return v;
  }

  /** The dotted path of this section, e.g. {@code registry}; empty for the root. */
  public String path() {
    return path;
  }

  public Set<String> keys() {
    return values.keySet();
  }

  public boolean has(String key) {
    Node n = values.get(key);
    return n != null && n.value() != null;
  }

  public boolean isEmpty() {
    return values.isEmpty();
  }

  /** Fails with the line of the first key not in {@code allowed}. */
  public void allowOnly(String... allowed) {
    Set<String> ok = new LinkedHashSet<>(Arrays.asList(allowed));
    for (var e : values.entrySet()) {
      if (!ok.contains(e.getKey())) {
        throw new ConfigException(source, e.getValue().line(), key(e.getKey()),
            "unknown key; allowed here: " + String.join(", ", ok));
      }
    }
  }

  /** An error about one key of this section, with its line when known. */
  public ConfigException error(String key, String problem) {
    Node n = values.get(key);
    return new ConfigException(source, n != null ? n.line() : line, key(key), problem);
  }

  private String key(String k) {
    return path.isEmpty() ? k : path + "." + k;
  }

  public Optional<String> string(String key) {
    Node n = values.get(key);
    if (n == null || n.value() == null) return Optional.empty();
    Object v = n.value();
    if (v instanceof Map || v instanceof List || v instanceof SecretRef) throw error(key, "expected a text value");
    return Optional.of(String.valueOf(v));
  }

  public String string(String key, String defaultValue) {
    return string(key).orElse(defaultValue);
  }

  public String requireString(String key) {
    return string(key).filter(s -> !s.isBlank()).orElseThrow(() -> error(key, "is required"));
  }

  public int integer(String key, int defaultValue) {
    Optional<String> s = string(key);
    if (s.isEmpty()) return defaultValue;
    try {
      return Integer.parseInt(s.get().trim());
    } catch (NumberFormatException e) {
      throw error(key, "expected a whole number, got '" + s.get() + "'");
    }
  }

  public boolean bool(String key, boolean defaultValue) {
    Optional<String> s = string(key);
    if (s.isEmpty()) return defaultValue;
    return switch (s.get().trim().toLowerCase(Locale.ROOT)) {
      case "true", "yes", "on" -> true;
      case "false", "no", "off" -> false;
      default -> throw error(key, "expected true or false, got '" + s.get() + "'");
    };
  }

  /** A duration written as {@code 250ms}, {@code 30s}, {@code 5m}, {@code 2h}, {@code 7d} or ISO-8601 {@code PT30S}. */
  public Duration duration(String key, Duration defaultValue) {
    Node n = values.get(key);
    if (n != null && n.value() instanceof Duration d) return d;
    Optional<String> s = string(key);
    if (s.isEmpty()) return defaultValue;
    String t = s.get().trim();
    Matcher m = DURATION.matcher(t);
    if (m.matches()) {
      long amount = Long.parseLong(m.group(1));
      return switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(amount);
        case "s" -> Duration.ofSeconds(amount);
        case "m" -> Duration.ofMinutes(amount);
        case "h" -> Duration.ofHours(amount);
        default -> Duration.ofDays(amount);
      };
    }
    try {
      return Duration.parse(t);
    } catch (DateTimeParseException e) {
      throw error(key, "expected a duration such as 30s, 5m, 2h or PT30S, got '" + t + "'");
    }
  }

  /** A secret reference; a plain text value is refused so secrets never have to be written into files. */
  public Optional<SecretRef> secret(String key) {
    Node n = values.get(key);
    if (n == null || n.value() == null) return Optional.empty();
    if (n.value() instanceof SecretRef r) return Optional.of(r);
    if (n.value() instanceof Map<?, ?> m) return Optional.of(secretRef(key, castMap(m), n.line()));
    throw error(key, "a secret must be a reference {env: NAME} or {file: PATH}, not a value written inline");
  }

  public SecretRef requireSecret(String key) {
    return secret(key).orElseThrow(() -> error(key, "is required (a reference {env: NAME} or {file: PATH})"));
  }

  private SecretRef secretRef(String key, Map<String, Node> m, int atLine) {
    if (m.size() != 1 || !(m.containsKey("env") || m.containsKey("file"))) {
      throw new ConfigException(source, atLine, key(key), "a secret reference has exactly one key: env or file");
    }
    Object v = m.values().iterator().next().value();
    if (v == null || v instanceof Map || v instanceof List) {
      throw new ConfigException(source, atLine, key(key), "a secret reference needs a name or path");
    }
    try {
      return m.containsKey("env") ? SecretRef.env(String.valueOf(v)) : SecretRef.file(java.nio.file.Path.of(String.valueOf(v)));
    } catch (ValidationException e) {
      throw new ConfigException(source, atLine, key(key), e.getMessage());
    }
  }

  /** A nested section; empty when absent. */
  public Settings section(String key) {
    Node n = values.get(key);
    if (n == null || n.value() == null) return new Settings(source, key(key), line, Map.of());
    if (n.value() instanceof Map<?, ?> m) return new Settings(source, key(key), n.line(), castMap(m));
    throw error(key, "expected a section (a map of keys)");
  }

  /** A list of sections, e.g. the hosts of a static pool. */
  public List<Settings> sections(String key) {
    Node n = values.get(key);
    if (n == null || n.value() == null) return List.of();
    if (!(n.value() instanceof List<?> l)) throw error(key, "expected a list");
    List<Settings> out = new ArrayList<>();
    int i = 0;
    for (Object o : l) {
      Node item = (Node) o;
      String p = key(key) + "[" + i++ + "]";
      if (!(item.value() instanceof Map<?, ?> m)) throw new ConfigException(source, item.line(), p, "expected a section");
      out.add(new Settings(source, p, item.line(), castMap(m)));
    }
    return out;
  }

  /** A list of text values (a single value counts as a list of one). */
  public List<String> strings(String key) {
    Node n = values.get(key);
    if (n == null || n.value() == null) return List.of();
    if (n.value() instanceof List<?> l) {
      List<String> out = new ArrayList<>();
      for (Object o : l) {
        Object v = ((Node) o).value();
        if (v instanceof Map || v instanceof List) throw error(key, "expected a list of text values");
        out.add(String.valueOf(v));
      }
      return out;
    }
    return List.of(string(key).orElseThrow());
  }

  /** A map of text values, e.g. labels or environment. */
  public Map<String, String> stringMap(String key) {
    Settings s = section(key);
    Map<String, String> out = new LinkedHashMap<>();
    for (String k : s.keys()) out.put(k, s.string(k).orElse(""));
    return out;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Node> castMap(Map<?, ?> m) {
    return (Map<String, Node>) m;
  }

  /** Resolves every secret reference below this section (both forms: a reference map and a {@link SecretRef}). */
  void collectSecrets(List<Secret> out) {
    for (var e : values.entrySet()) {
      Object v = e.getValue().value();
      if (v instanceof SecretRef r) {
        resolveInto(r, out);
      } else if (v instanceof Map<?, ?> m) {
        Map<String, Node> map = castMap(m);
        if (map.size() == 1 && (map.containsKey("env") || map.containsKey("file"))) {
          resolveInto(secretRef(e.getKey(), map, e.getValue().line()), out);
        } else {
          section(e.getKey()).collectSecrets(out);
        }
      } else if (v instanceof List<?>) {
        for (Settings s : sectionsOrEmpty(e.getKey())) s.collectSecrets(out);
      }
    }
  }

  /** A reference that cannot be resolved holds no value that could be printed; its user reports it when it needs it. */
  private static void resolveInto(SecretRef ref, List<Secret> out) {
    try {
      out.add(ref.resolve());
    } catch (ConfigException missing) {
      // nothing to mask
    }
  }

  /** Walks every secret reference below this section and resolves it, so a missing one fails at load time. */
  void checkSecrets() {
    for (var e : values.entrySet()) {
      Object v = e.getValue().value();
      if (v instanceof Map<?, ?> m) {
        Map<String, Node> map = castMap(m);
        if (map.size() == 1 && (map.containsKey("env") || map.containsKey("file"))) {
          SecretRef ref = secretRef(e.getKey(), map, e.getValue().line());
          try {
            ref.resolve();
          } catch (ConfigException missing) {
            throw new ConfigException(source, e.getValue().line(), key(e.getKey()),
                "secret " + ref.describe() + " cannot be resolved: " + missing.getMessage()
                    .substring(missing.getMessage().indexOf(": ", missing.getMessage().indexOf("'")) + 2));
          }
        } else {
          section(e.getKey()).checkSecrets();
        }
      } else if (v instanceof List<?>) {
        for (Settings s : sectionsOrEmpty(e.getKey())) s.checkSecrets();
      }
    }
  }

  private List<Settings> sectionsOrEmpty(String key) {
    Node n = values.get(key);
    if (!(n.value() instanceof List<?> l) || l.isEmpty() || !(((Node) l.get(0)).value() instanceof Map)) return List.of();
    return sections(key);
  }

  @Override
  public String toString() {
    return "Settings[" + (path.isEmpty() ? "<root>" : path) + " " + values.keySet() + "]";
  }
}
