package dev.byop.core;

import dev.byop.core.internal.Checks;
import dev.byop.core.internal.GitUrl;
import java.util.Locale;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Where a component's source lives: a git URL plus a ref (branch or tag) and/or a commit. The URL is validated at
 * construction against option injection and dangerous transports, so it can safely follow {@code --} on a git
 * command line; whether {@code file://} and plain {@code http://} are allowed is the host's {@link Policy}.
 *
 * <p>A URL never carries a password or token ({@code https://user:token@host/…}, {@code https://token@host/…},
 * {@code ssh://user:password@host/…}): it would be stored with the app and shown wherever the URL is. Such a URL is
 * refused; the app gives {@link GitCredentials} (references, sent only to this URL's host) instead.
 *
 * @param credentials the app's own credentials for this repository, or null for the builder's configured ones
 */
public record GitSource(String url, @Nullable String ref, @Nullable String commit,
    @Nullable GitCredentials credentials) {
  private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{7,40}|[0-9a-f]{64}");
  private static final Pattern SCHEME = Pattern.compile("([a-zA-Z][a-zA-Z0-9+.-]*)://.*");
  private static final Pattern SCP_LIKE = Pattern.compile("([A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+:[^/\\\\].*|([A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+:/.*");

  public GitSource {
    checkUrl(url);
    if (credentials != null && !(transportOf(url).equals("https") || transportOf(url).equals("http"))) {
      throw new ValidationException("git.credentials", redactUrl(url),
          "a token is sent only over https (or http); ssh sources use the builder's configured key");
    }
    if (ref != null) checkRef("git.ref", ref);
    if (commit != null && !COMMIT.matcher(commit).matches()) {
      throw new ValidationException("git.commit", Checks.printable(commit),
          "must be 7 to 40 (or 64) lowercase hexadecimal characters");
    }
  }

  public GitSource(String url, @Nullable String ref, @Nullable String commit) {
    this(url, ref, commit, null);
  }

  public static GitSource of(String url) {
    return new GitSource(url, null, null, null);
  }

  public GitSource withRef(String newRef) {
    return new GitSource(url, newRef, commit, credentials);
  }

  public GitSource withCommit(String newCommit) {
    return new GitSource(url, ref, newCommit, credentials);
  }

  /** The same source with the app's own credentials for it (null: the builder's configured ones). */
  public GitSource withCredentials(@Nullable GitCredentials newCredentials) {
    return new GitSource(url, ref, commit, newCredentials);
  }

  /** What to check out: the commit when given, else the ref, else {@code HEAD}. */
  public String revision() {
    return commit != null ? commit : ref != null ? ref : "HEAD";
  }

  /** The URL's transport: {@code https}, {@code http}, {@code ssh}, {@code git} or {@code file}. */
  public String transport() {
    return transportOf(url);
  }

  private static String transportOf(String url) {
    var m = SCHEME.matcher(url);
    if (m.matches()) return m.group(1).toLowerCase(Locale.ROOT);
    return "ssh"; // scp-like user@host:path
  }

  /** The URL with any user info (a token) removed, for logs and messages. */
  public String redactedUrl() {
    return redactUrl(url);
  }

  /** One URL with everything between {@code ://} (or its start) and its last {@code @} masked. */
  private static String redactUrl(String url) {
    int scheme = url.indexOf("://");
    int start = scheme >= 0 ? scheme + 3 : 0;
    int at = url.lastIndexOf('@');
    return at < start ? url : url.substring(0, start) + "***" + url.substring(at);
  }

  @Override
  public String toString() {
    return "GitSource[url=" + redactedUrl() + ", ref=" + ref + ", commit=" + commit
        + (credentials == null ? "" : ", credentials=" + credentials) + "]";
  }

  /**
   * Masks the user info of every URL in a text (a URL, a command line, a line git printed): everything from
   * {@code ://} to the last {@code @} of the URL, so a password holding {@code @}, {@code /} or {@code %40} is masked
   * whole; an scp-like {@code user:password@host:path} likewise.
   */
  public static String redact(String text) {
    String out = URL_USERINFO.matcher(text).replaceAll("$1***@");
    return SCP_USERINFO.matcher(out).replaceAll("$1***@");
  }

  private static final Pattern URL_USERINFO = Pattern.compile("([A-Za-z][A-Za-z0-9+.-]*://)[^\\s'\"<>]*@");
  private static final Pattern SCP_USERINFO = Pattern.compile("(^|[\\s'\"])[^\\s'\"/@:]*:(?!//)[^\\s'\"]*@");

  /** Which transports a host allows beyond https, ssh and git. */
  public record Policy(boolean allowFile, boolean allowHttp) {
    public static final Policy DEFAULT = new Policy(false, false);
    public static final Policy PERMISSIVE = new Policy(true, true);

    /** Fails when the source's transport is not allowed by this policy. */
    public void check(GitSource source) {
      String t = source.transport();
      if (t.equals("file") && !allowFile) {
        throw new ValidationException("git.url", source.redactedUrl(),
            "file:// URLs are not allowed by configuration (set git.allowFile: true)");
      }
      if (t.equals("http") && !allowHttp) {
        throw new ValidationException("git.url", source.redactedUrl(),
            "plain http:// URLs are not allowed by configuration (set git.allowHttp: true)");
      }
    }
  }

  private static final String NO_PASSWORD = "must not carry a password or token (it would be stored and shown with"
      + " the URL); give credentials as secret references instead: GitSource.withCredentials (an app's own, in the"
      + " API 'source.credentials') or builder.git.credentials";

  /** What git connects to must be what credentials are matched on: a plain host name, no dot segments. */
  private static void checkParts(String url, String shown) {
    if (GitUrl.parse(url).isEmpty()) {
      throw new ValidationException("git.url", shown, "the host must be a DNS name or an IP address (with an optional"
          + " port) and the path must hold no '.' or '..' segments, encoded slashes or backslashes");
    }
  }

  static void checkUrl(@Nullable String url) {
    Checks.notBlank("git.url", url);
    Checks.singleLine("git.url", url);
    String shown = redactUrl(url);
    if (url.startsWith("-")) {
      throw new ValidationException("git.url", shown, "must not start with '-' (it would be read as an option)");
    }
    if (url.chars().anyMatch(Character::isWhitespace)) {
      throw new ValidationException("git.url", shown, "must not contain whitespace");
    }
    var m = SCHEME.matcher(url);
    if (m.matches()) {
      String scheme = m.group(1).toLowerCase(Locale.ROOT);
      switch (scheme) {
        case "https", "http", "ssh", "git", "file" -> { }
        default -> throw new ValidationException("git.url", shown,
            "transport '" + scheme + "' is not allowed; use https, ssh, git or file");
      }
      String rest = url.substring(scheme.length() + 3);
      int slash = rest.indexOf('/');
      int at = rest.lastIndexOf('@', slash < 0 ? rest.length() : slash);
      String host = at >= 0 ? rest.substring(at + 1) : rest;
      if (!scheme.equals("file") && (host.isEmpty() || host.startsWith("/") || host.startsWith("-"))) {
        throw new ValidationException("git.url", shown, "must name a host after '" + scheme + "://'");
      }
      if (scheme.equals("file") && !rest.startsWith("/")) {
        throw new ValidationException("git.url", shown, "file:// URLs must hold an absolute path");
      }
      if (scheme.equals("file")) return;
      String info = at >= 0 ? rest.substring(0, at) : null;
      if (info != null && (scheme.equals("https") || scheme.equals("http") || info.contains(":"))) {
        throw new ValidationException("git.url", shown, NO_PASSWORD);
      }
      checkParts(url, shown);
      return;
    }
    if (url.contains("::")) {
      throw new ValidationException("git.url", shown,
          "remote-helper transports ('<transport>::<address>', e.g. ext::) are not allowed");
    }
    if (SCP_LIKE.matcher(url).matches()) {
      int colon = url.indexOf(':');
      if (url.lastIndexOf('@') > colon) {
        throw new ValidationException("git.url", shown, NO_PASSWORD);
      }
      checkParts(url, shown);
      return;
    }
    throw new ValidationException("git.url", shown,
        "must be a URL (https://, ssh://, git://, file://) or scp-like user@host:path");
  }

  /** Checks a branch or tag name with the rules of git check-ref-format, plus no leading '-'. */
  static void checkRef(String field, String ref) {
    Checks.singleLine(field, ref);
    String why = null;
    if (ref.isEmpty()) why = "must not be empty";
    else if (ref.startsWith("-")) why = "must not start with '-' (it would be read as an option)";
    else if (ref.contains("..") || ref.contains("@{") || ref.contains("//")) why = "must not contain '..', '@{' or '//'";
    else if (ref.endsWith("/") || ref.endsWith(".") || ref.endsWith(".lock") || ref.startsWith("/")) {
      why = "must not start or end with '/' or end with '.' or '.lock'";
    } else if (ref.chars().anyMatch(c -> c == ' ' || c == '~' || c == '^' || c == ':' || c == '?' || c == '*'
        || c == '[' || c == '\\')) {
      why = "must not contain space, ~ ^ : ? * [ or \\";
    } else if (ref.equals("@")) {
      why = "must not be '@'";
    }
    if (why != null) throw new ValidationException(field, Checks.printable(ref), why);
  }
}
