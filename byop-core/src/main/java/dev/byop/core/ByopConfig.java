package dev.byop.core;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.byop.core.Settings.Node;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * byop's configuration: built in code or loaded from YAML. Each provider kind has a section ({@code store},
 * {@code builder}, {@code registry}, {@code cloud}, {@code preview}) whose optional {@code provider} key picks a
 * provider by id and whose other keys belong to that provider. Secrets are references, never inline.
 *
 * <pre>{@code
 * dataDir: ./byop-data
 * store: { provider: jdbc }
 * registry:
 *   address: 127.0.0.1:5000
 *   username: byop
 *   password: { env: REGISTRY_PASSWORD }
 * orchestrator: { workers: 4, lease: 30s, maxAttempts: 3, jobTimeout: 30m }
 * }</pre>
 */
public final class ByopConfig {
  /** The sections byop itself knows at the top level. */
  public static final List<String> TOP_LEVEL_KEYS =
      List.of("dataDir", "store", "builder", "registry", "cloud", "preview", "orchestrator", "git");

  private final Settings root;
  private final Path dataDir;

  private ByopConfig(Settings root) {
    root.allowOnly(TOP_LEVEL_KEYS.toArray(String[]::new));
    this.root = root;
    this.dataDir = Path.of(root.string("dataDir", "./byop-data"));
    orchestrator(); // validate types early
    gitPolicy();
    root.checkSecrets();
  }

  /**
   * Every secret the configuration references (registry passwords, git tokens, store passwords, ...), resolved now,
   * so that byop can mask them in every log line and message; never print what this returns.
   */
  public List<Secret> secrets() {
    List<Secret> out = new ArrayList<>();
    root.collectSecrets(out);
    return out;
  }

  /** The defaults: embedded store under {@code ./byop-data}, providers chosen by priority. */
  public static ByopConfig defaults() {
    return new ByopConfig(Settings.empty());
  }

  /** Configuration built in code from nested maps; see {@link Settings#of(Map)} for the value types. */
  public static ByopConfig of(Map<String, ?> values) {
    return new ByopConfig(Settings.of(values));
  }

  /** Loads a YAML file; errors name the file, the line and the key. */
  public static ByopConfig load(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigException(file.toString(), 0, "", "cannot read configuration file: " + e.getMessage());
    }
    return parse(text, file.toString());
  }

  /** Parses YAML text; {@code sourceName} is used in error messages. */
  public static ByopConfig parse(String yaml, String sourceName) {
    Map<String, Node> map;
    // Jackson's tree model drops locations; reading tokens keeps each key's line for error messages.
    try (JsonParser p = new YAMLFactory().createParser(yaml)) {
      JsonToken t = p.nextToken();
      if (t == null) {
        map = Map.of();
      } else if (t != JsonToken.START_OBJECT) {
        throw new ConfigException(sourceName, line(p), "", "the top level must be a map of sections");
      } else {
        map = readObject(p, sourceName, "");
      }
    } catch (JsonProcessingException e) {
      int line = e.getLocation() == null ? 0 : e.getLocation().getLineNr();
      throw new ConfigException(sourceName, line, "", "not valid YAML: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new ConfigException(sourceName, 0, "", "cannot read YAML: " + e.getMessage());
    }
    return new ByopConfig(new Settings(sourceName, "", 1, map));
  }

  private static int line(JsonParser p) {
    return p.currentTokenLocation().getLineNr();
  }

  private static Map<String, Node> readObject(JsonParser p, String source, String path) throws IOException {
    Map<String, Node> out = new LinkedHashMap<>();
    JsonToken t;
    while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
      String key = p.currentName();
      int keyLine = line(p);
      String childPath = path.isEmpty() ? key : path + "." + key;
      if (out.containsKey(key)) throw new ConfigException(source, keyLine, childPath, "duplicate key");
      p.nextToken();
      out.put(key, new Node(readValue(p, source, childPath), keyLine));
    }
    if (t != JsonToken.END_OBJECT) throw new ConfigException(source, line(p), path, "unexpected " + t);
    return out;
  }

  private static @Nullable Object readValue(JsonParser p, String source, String path) throws IOException {
    JsonToken t = p.currentToken();
    switch (t) {
      case START_OBJECT:
        return readObject(p, source, path);
      case START_ARRAY: {
        List<Node> list = new ArrayList<>();
        while (p.nextToken() != JsonToken.END_ARRAY) {
          int l = line(p);
          list.add(new Node(readValue(p, source, path + "[" + list.size() + "]"), l));
        }
        return list;
      }
      case VALUE_NULL:
        return null;
      default:
        return p.getText();
    }
  }

  /** Every section, as written. */
  public Settings root() {
    return root;
  }

  /** One top-level section, e.g. {@code registry}; empty when absent. */
  public Settings section(String name) {
    return root.section(name);
  }

  /** Where the embedded store, caches and work directories live (default {@code ./byop-data}). */
  public Path dataDir() {
    return dataDir;
  }

  /** The provider id a section names with its {@code provider} key. */
  public Optional<String> providerId(String section) {
    return section(section).string("provider");
  }

  /** Orchestrator tuning, section {@code orchestrator}. */
  public Orchestrator orchestrator() {
    Settings s = section("orchestrator");
    s.allowOnly("workers", "lease", "maxAttempts", "jobTimeout", "pollInterval");
    Orchestrator o = new Orchestrator(s.integer("workers", 2), s.duration("lease", Duration.ofSeconds(30)),
        s.integer("maxAttempts", 3), s.duration("jobTimeout", Duration.ofMinutes(30)),
        s.duration("pollInterval", Duration.ofMillis(200)));
    if (o.workers() < 1) throw s.error("workers", "must be at least 1");
    if (o.maxAttempts() < 1) throw s.error("maxAttempts", "must be at least 1");
    if (o.lease().toMillis() < 100) throw s.error("lease", "must be at least 100ms");
    return o;
  }

  /** Which git transports beyond https/ssh/git are allowed, section {@code git}. */
  public GitSource.Policy gitPolicy() {
    Settings s = section("git");
    s.allowOnly("allowFile", "allowHttp");
    return new GitSource.Policy(s.bool("allowFile", false), s.bool("allowHttp", false));
  }

  /**
   * Orchestrator tuning.
   *
   * @param workers global limit of builds running at once in this process
   * @param lease how long a claim lasts without renewal (renewed at a third of it)
   * @param maxAttempts how many times a job is tried when its worker dies
   * @param jobTimeout how long one job may run before it is FAILED
   * @param pollInterval how often idle workers look for work
   */
  public record Orchestrator(int workers, Duration lease, int maxAttempts, Duration jobTimeout, Duration pollInterval) {}
}
