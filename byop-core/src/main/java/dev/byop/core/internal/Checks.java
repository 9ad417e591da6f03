package dev.byop.core.internal;

import dev.byop.core.ValidationException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/** Validation helpers shared by the value types; every failure names the field, the value and the rule. */
public final class Checks {
  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private Checks() {}

  public static <T> T notNull(String field, @Nullable T value) {
    if (value == null) throw new ValidationException(field, null, "is required");
    return value;
  }

  public static String notBlank(String field, @Nullable String value) {
    if (value == null || value.isBlank()) throw new ValidationException(field, value, "must not be blank");
    return value;
  }

  /** A lowercase DNS label (RFC 1123): usable as a hostname part, compose service, container and path name. */
  public static String dnsLabel(String field, @Nullable String value) {
    notNull(field, value);
    if (!DNS_LABEL.matcher(value).matches()) {
      throw new ValidationException(field, printable(value),
          "must be 1-63 characters of a-z, 0-9 and '-', starting and ending with a letter or digit");
    }
    return value;
  }

  public static String envName(String field, @Nullable String value) {
    notNull(field, value);
    if (!ENV_NAME.matcher(value).matches()) {
      throw new ValidationException(field, printable(value), "must match [A-Za-z_][A-Za-z0-9_]*");
    }
    return value;
  }

  /** Free text without control characters other than tab (values may still hold quotes, '$', newlines if allowed). */
  public static String noNul(String field, @Nullable String value) {
    notNull(field, value);
    if (value.indexOf('\0') >= 0) throw new ValidationException(field, printable(value), "must not contain NUL");
    return value;
  }

  public static String singleLine(String field, @Nullable String value) {
    notNull(field, value);
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        throw new ValidationException(field, printable(value), "must not contain control characters");
      }
    }
    return value;
  }

  public static int port(String field, int value) {
    if (value < 1 || value > 65535) throw new ValidationException(field, value, "must be a port between 1 and 65535");
    return value;
  }

  /** A relative path inside a checkout: no leading '/', no '..' segment, no control characters. */
  public static String relativePath(String field, @Nullable String value) {
    singleLine(field, value);
    if (value.isEmpty() || value.startsWith("/") || value.startsWith("-")) {
      throw new ValidationException(field, value, "must be a non-empty relative path not starting with '/' or '-'");
    }
    for (String seg : value.split("/", -1)) {
      if (seg.equals("..")) throw new ValidationException(field, value, "must not contain '..' segments");
    }
    return value;
  }

  /** Copies a map of environment-style names to values, checking each name and value. */
  public static Map<String, String> envMap(String field, @Nullable Map<String, String> map) {
    if (map == null) return Map.of();
    Map<String, String> copy = new LinkedHashMap<>();
    map.forEach((k, v) -> {
      envName(field + " name", k);
      noNul(field + "." + k, v);
      copy.put(k, v);
    });
    return java.util.Collections.unmodifiableMap(copy);
  }

  public static <T> List<T> list(@Nullable List<T> list) {
    return list == null ? List.of() : List.copyOf(list);
  }

  /** Escapes control characters so an error message never breaks a log line. */
  public static String printable(@Nullable String value) {
    if (value == null) return "null";
    StringBuilder b = new StringBuilder();
    value.codePoints().limit(200).forEach(cp -> {
      if (cp == '\n') b.append("\\n");
      else if (cp == '\r') b.append("\\r");
      else if (cp == '\t') b.append("\\t");
      else if (cp < 0x20 || cp == 0x7f) b.append(String.format("\\u%04x", cp));
      else b.appendCodePoint(cp);
    });
    if (value.length() > 200) b.append("...");
    return b.toString();
  }
}
