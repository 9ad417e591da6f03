package dev.byop.core.internal;

import dev.byop.core.Credentials;
import dev.byop.core.Secret;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;

/**
 * Replaces every secret value a unit of work resolved with {@code ******} before a line is stored or emitted; longer
 * secrets first, so a secret containing another is hidden whole.
 *
 * <p>A multi-line secret (a PEM key) is printed by a build step line by line, so besides the whole value each of its
 * lines of at least {@link #MIN_LINE} characters (after trimming) is a secret of its own. Shorter lines are not:
 * {@code }} or {@code ---} would mask text all over every log, and what they carry is tiny (the short last line of a
 * base64 body holds a few bytes of a key whose other lines are all masked). The BEGIN/END lines of a PEM are longer
 * and are masked too, which is harmless.
 */
public final class Redactor {
  /** What replaces a secret. */
  public static final String MASK = "******";
  /** The shortest line of a multi-line secret that is hidden on its own. */
  public static final int MIN_LINE = 8;
  private final List<String> secrets = new CopyOnWriteArrayList<>();

  public Redactor() { }

  /** A redactor that starts with every secret of {@code base} (e.g. those of the configuration). */
  public Redactor(Redactor base) {
    secrets.addAll(base.secrets);
  }

  /** Adds a secret value to hide; empty values are ignored (they would match everywhere). */
  public Redactor add(@Nullable Secret secret) {
    if (secret != null) add(secret.reveal());
    return this;
  }

  /** Adds every secret of a list, e.g. {@link dev.byop.core.ByopConfig#secrets()}. */
  public Redactor addAll(List<Secret> values) {
    values.forEach(this::add);
    return this;
  }

  /** The secret, and the Basic authorization value made of user name and secret, in case a header is printed. */
  public Redactor add(@Nullable Credentials credentials) {
    if (credentials != null) {
      add(credentials.secret());
      if (!credentials.secret().isEmpty()) {
        add(Base64.getEncoder().encodeToString((credentials.username() + ":" + credentials.secret().reveal())
            .getBytes(StandardCharsets.UTF_8)));
      }
    }
    return this;
  }

  /** Adds a raw value, e.g. the password part of a URL's user info; a multi-line value also adds its lines. */
  public synchronized Redactor add(@Nullable String value) {
    if (value == null || value.isEmpty()) return this;
    addOne(value);
    if (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0) {
      for (String line : value.split("\r\n|\r|\n")) {
        String l = line.strip();
        if (l.length() >= MIN_LINE) addOne(l);
      }
    }
    secrets.sort(Comparator.comparingInt(String::length).reversed());
    return this;
  }

  private void addOne(String value) {
    if (!secrets.contains(value)) secrets.add(value);
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

  /**
   * What to hand to SLF4J instead of {@code t}: {@code t} itself when no message in its cause chain holds a secret,
   * otherwise a copy whose messages are redacted, with the original class names and stack traces.
   */
  public Throwable safe(Throwable t) {
    return holdsSecret(t, Collections.newSetFromMap(new IdentityHashMap<>())) ? copy(t, new IdentityHashMap<>()) : t;
  }

  private boolean holdsSecret(@Nullable Throwable t, Set<Throwable> seen) {
    if (t == null || !seen.add(t)) return false;
    String m = t.getMessage();
    if (m != null && !redact(m).equals(m)) return true;
    for (Throwable s : t.getSuppressed()) if (holdsSecret(s, seen)) return true;
    return holdsSecret(t.getCause(), seen);
  }

  private Throwable copy(Throwable t, IdentityHashMap<Throwable, Throwable> done) {
    Throwable known = done.get(t);
    if (known != null) return known;
    String m = t.getMessage();
    Redacted r = new Redacted(t.getClass().getName() + (m == null ? "" : ": " + redact(m)));
    done.put(t, r);
    r.setStackTrace(t.getStackTrace());
    if (t.getCause() != null && t.getCause() != t) r.initCause(copy(t.getCause(), done));
    for (Throwable s : t.getSuppressed()) r.addSuppressed(copy(s, done));
    return r;
  }

  /** A redacted copy of an exception; prints as the original class and its redacted message. */
  private static final class Redacted extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Redacted(String message) {
      super(message); // cause left unset, so that initCause can set it
    }

    @Override
    public String toString() {
      return getMessage();
    }
  }
}
