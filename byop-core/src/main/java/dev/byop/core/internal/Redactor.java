package dev.byop.core.internal;

import dev.byop.core.Credentials;
import dev.byop.core.Secret;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;

/**
 * Replaces every secret value a unit of work resolved with {@code ******} before a line is stored or emitted; longer
 * secrets first, so a secret containing another is hidden whole.
 */
public final class Redactor {
  /** What replaces a secret. */
  public static final String MASK = "******";
  private final List<String> secrets = new CopyOnWriteArrayList<>();

  /** Adds a secret value to hide; empty values are ignored (they would match everywhere). */
  public Redactor add(@Nullable Secret secret) {
    if (secret != null) add(secret.reveal());
    return this;
  }

  public Redactor add(@Nullable Credentials credentials) {
    if (credentials != null) add(credentials.secret());
    return this;
  }

  /** Adds a raw value, e.g. the password part of a URL's user info. */
  public synchronized Redactor add(@Nullable String value) {
    if (value == null || value.isEmpty() || secrets.contains(value)) return this;
    secrets.add(value);
    secrets.sort(Comparator.comparingInt(String::length).reversed());
    return this;
  }

  /** The user info of a URL ({@code user:token@}) is a secret too. */
  public Redactor addUrlUserInfo(String url) {
    int scheme = url.indexOf("://");
    if (scheme < 0) return this;
    int at = url.indexOf('@', scheme + 3);
    int slash = url.indexOf('/', scheme + 3);
    if (at < 0 || (slash >= 0 && slash < at)) return this;
    String info = url.substring(scheme + 3, at);
    int colon = info.indexOf(':');
    return add(colon >= 0 ? info.substring(colon + 1) : info);
  }

  public String redact(String text) {
    String out = text;
    for (String s : secrets) {
      if (out.contains(s)) out = out.replace(s, MASK);
    }
    return out;
  }
}
