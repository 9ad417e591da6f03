package dev.byop.core;

import dev.byop.core.internal.Checks;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Preview host names: exactly one DNS label under the configured domain (so one wildcard certificate
 * {@code *.domain} covers every preview), made of the app id and a unique token.
 */
public final class PreviewHostnames {
  /** The default preview domain. */
  public static final String DEFAULT_DOMAIN = "byop.local";
  private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

  private PreviewHostnames() {}

  /**
   * {@code <app>-<token>.<domain>}: the token (lowercased; hashed when it is not a short clean label) is kept whole
   * so the name stays unique; the app part is shortened to fit 63 characters.
   */
  public static String hostname(String appId, String token, String domain) {
    checkDomain(domain);
    String t = token.toLowerCase(Locale.ROOT);
    if (!LABEL.matcher(t).matches() || t.length() > 24) t = sha256(token).substring(0, 16);
    String app = appId.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]", "-");
    int room = 63 - 1 - t.length();
    if (app.length() > room) app = app.substring(0, room);
    app = app.replaceAll("^-+|-+$", "");
    String label = app.isEmpty() ? t : app + "-" + t;
    return label + "." + domain;
  }

  /** Checks a domain: dot-separated DNS labels, at most 253 characters in all with the preview label. */
  public static String checkDomain(String domain) {
    Checks.notBlank("preview.domain", domain);
    if (domain.length() > 253 - 64) {
      throw new ValidationException("preview.domain", Checks.printable(domain), "is too long for a preview host name");
    }
    for (String l : domain.split("\\.", -1)) {
      if (!LABEL.matcher(l).matches()) {
        throw new ValidationException("preview.domain", Checks.printable(domain),
            "must be dot-separated labels of a-z, 0-9 and '-'");
      }
    }
    return domain;
  }

  /** Checks a full host name as {@link #hostname} makes them. */
  public static String checkHostname(String field, String hostname) {
    Checks.notBlank(field, hostname);
    int dot = hostname.indexOf('.');
    if (dot < 1 || !LABEL.matcher(hostname.substring(0, dot)).matches()) {
      throw new ValidationException(field, Checks.printable(hostname), "must be a DNS label followed by a domain");
    }
    try {
      checkDomain(hostname.substring(dot + 1));
    } catch (ValidationException e) {
      throw new ValidationException(field, Checks.printable(hostname), "must be a DNS label followed by a domain");
    }
    return hostname;
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every JDK", e);
    }
  }
}
