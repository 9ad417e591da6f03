package dev.byop.core;

import org.jspecify.annotations.Nullable;

/** A configuration error; when the configuration came from a file it names the source, line and key. */
public class ConfigException extends ByopException {
  private static final long serialVersionUID = 1L;
  private final @Nullable String source;
  private final int line;
  private final String key;

  public ConfigException(@Nullable String source, int line, String key, String problem) {
    super(format(source, line, key, problem));
    this.source = source;
    this.line = line;
    this.key = key;
  }

  public ConfigException(String key, String problem) {
    this(null, 0, key, problem);
  }

  private static String format(@Nullable String source, int line, String key, String problem) {
    StringBuilder b = new StringBuilder();
    if (source != null) {
      b.append(source);
      if (line > 0) b.append(':').append(line);
      b.append(": ");
    } else if (line > 0) {
      b.append("line ").append(line).append(": ");
    }
    return b.append("key '").append(key).append("': ").append(problem).toString();
  }

  /** The file or resource the configuration came from, or null when built in code. */
  public @Nullable String source() {
    return source;
  }

  /** The 1-based line of the offending key, or 0 when unknown. */
  public int line() {
    return line;
  }

  /** The dotted path of the offending key, e.g. {@code registry.credentials.password}. */
  public String key() {
    return key;
  }
}
