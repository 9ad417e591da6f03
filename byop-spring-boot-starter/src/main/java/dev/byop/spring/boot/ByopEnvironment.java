package dev.byop.spring.boot;

import dev.byop.core.ByopConfig;
import dev.byop.core.ConfigException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.PropertySource;

/**
 * Turns the {@code byop.*} subtree of a Spring {@code Environment} into the nested maps of {@link ByopConfig#of(Map)},
 * so {@code application.yml} takes the keys of {@code byop.yml} under {@code byop:} and the same rules apply.
 *
 * <p>Written here rather than with Spring's {@code Binder}: binding to a map lower-cases keys
 * ({@code dataDir} would become {@code datadir}), and byop's keys are camelCase. Kebab-case names
 * ({@code byop.orchestrator.max-attempts}, what IDEs complete) are read as their camelCase key; setting both forms
 * of one key is an error. Spring's precedence and placeholders apply ({@code Environment#getProperty}). Environment
 * variables ({@code BYOP_...}) are not mapped: secrets are references ({@code password: {env: NAME}}) anyway.
 */
public final class ByopEnvironment {
  /** The property prefix. */
  public static final String PREFIX = "byop";
  private static final Pattern SEGMENT = Pattern.compile("([^\\[\\]]+)((?:\\[\\d+])*)");
  private static final Pattern INDEX = Pattern.compile("\\[(\\d+)]");

  private ByopEnvironment() { }

  /** The configuration the {@code byop.*} properties describe; errors name the property. */
  public static ByopConfig config(ConfigurableEnvironment env) {
    return ByopConfig.of(subtree(env));
  }

  /** The {@code byop.*} properties as nested maps (lists for {@code [n]} indexes), keys in camelCase. */
  public static Map<String, Object> subtree(ConfigurableEnvironment env) {
    TreeSet<String> names = new TreeSet<>();
    for (PropertySource<?> source : env.getPropertySources()) {
      if (source instanceof EnumerablePropertySource<?> e) {
        for (String n : e.getPropertyNames()) {
          if (n.startsWith(PREFIX + ".")) names.add(n);
        }
      }
    }
    Map<String, Object> root = new LinkedHashMap<>();
    Map<String, String> origins = new LinkedHashMap<>();
    for (String name : names) {
      String value = env.getProperty(name);
      if (value == null) continue;
      put(root, origins, name, value);
    }
    return lists(root, PREFIX);
  }

  @SuppressWarnings("unchecked")
  private static void put(Map<String, Object> root, Map<String, String> origins, String name, String value) {
    List<Object> path = new ArrayList<>();
    for (String part : name.substring(PREFIX.length() + 1).split("\\.", -1)) {
      Matcher m = SEGMENT.matcher(part);
      if (!m.matches()) throw new ConfigException(name, "is not a property name byop understands (segment '" + part
          + "')");
      path.add(camel(m.group(1)));
      Matcher i = INDEX.matcher(m.group(2));
      while (i.find()) path.add(Integer.valueOf(i.group(1)));
    }
    String key = path.toString();
    String earlier = origins.putIfAbsent(key, name);
    if (earlier != null) {
      throw new ConfigException(name, "sets the same key as " + earlier + "; set one of them");
    }
    // indexes are kept as TreeMaps keyed by Integer until lists() turns them into lists
    Map<Object, Object> node = (Map<Object, Object>) (Map<?, ?>) root;
    for (int k = 0; k < path.size(); k++) {
      Object seg = path.get(k);
      if (k == path.size() - 1) {
        if (node.get(seg) instanceof Map) throw new ConfigException(name, "is a section; it takes keys, not a value");
        node.put(seg, value);
        return;
      }
      Object next = node.get(seg);
      if (next == null) {
        next = path.get(k + 1) instanceof Integer ? new TreeMap<Integer, Object>() : new LinkedHashMap<String, Object>();
        node.put(seg, next);
      } else if (!(next instanceof Map)) {
        throw new ConfigException(name, "is under a key that is already set to a value");
      }
      node = (Map<Object, Object>) next;
    }
  }

  /** {@code max-attempts} is {@code maxAttempts}; names without a dash stay as they are. */
  static String camel(String s) {
    if (s.indexOf('-') < 0) return s;
    StringBuilder b = new StringBuilder();
    boolean up = false;
    for (char c : s.toCharArray()) {
      if (c == '-') {
        up = true;
      } else {
        b.append(up ? Character.toUpperCase(c) : c);
        up = false;
      }
    }
    return b.toString();
  }

  @SuppressWarnings("unchecked")
  private static <T> T lists(T node, String at) {
    if (node instanceof TreeMap<?, ?> indexed) {
      List<Object> out = new ArrayList<>();
      int expected = 0;
      for (Map.Entry<?, ?> e : indexed.entrySet()) {
        if ((Integer) e.getKey() != expected++) {
          throw new ConfigException(at + "[" + e.getKey() + "]", "list indexes must run 0, 1, 2, … without gaps");
        }
        out.add(lists(e.getValue(), at + "[" + e.getKey() + "]"));
      }
      return (T) out;
    }
    if (node instanceof Map<?, ?> map) {
      Map<String, Object> out = new LinkedHashMap<>();
      map.forEach((k, v) -> out.put((String) k, lists(v, at + "." + k)));
      return (T) out;
    }
    return node;
  }
}
