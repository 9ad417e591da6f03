package dev.byop.core.internal;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A git URL taken apart the way git (curl, ssh) connects to it: scheme, user, host, port and path, each normalised
 * (scheme and host lower case, default port dropped). Credentials are scoped by {@link #isUnder(GitUrl)} on these
 * parts, never by comparing strings, so {@code https://host.evil.com}, {@code https://host@evil.com} or
 * {@code https://host:443@evil.com} are never "under" {@code https://host}.
 *
 * <p>Parsed by hand rather than with {@link java.net.URI}: {@code URI} accepts what git does not (and the other way
 * round) for scp-like {@code user@host:path}, and we want a strict whitelist for the host, so what we match on is
 * exactly what the fetch connects to.
 */
public record GitUrl(String scheme, @Nullable String user, String host, int port, String path) {
  private static final Pattern SCHEME_URL = Pattern.compile("([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)([^?#]*)(.*)",
      Pattern.DOTALL);
  private static final Pattern SCP_LIKE = Pattern.compile("(?:([A-Za-z0-9._-]+)@)?([A-Za-z0-9.-]+):(.*)",
      Pattern.DOTALL);
  private static final Pattern HOST = Pattern.compile("[a-z0-9]([a-z0-9.-]*[a-z0-9])?|\\[[0-9a-f:.]+\\]");
  private static final Pattern DOT_SEGMENT = Pattern.compile("(^|/)(\\.|%2e){1,2}(/|$)", Pattern.CASE_INSENSITIVE);

  /** The well-known port of a transport, or -1. */
  public static int defaultPort(String scheme) {
    return switch (scheme) {
      case "https" -> 443;
      case "http" -> 80;
      case "ssh" -> 22;
      case "git" -> 9418;
      default -> -1;
    };
  }

  /**
   * Takes a network URL apart: {@code scheme://[user[:password]@]host[:port]/path} or scp-like
   * {@code [user@]host:path} (scheme {@code ssh}). Empty for {@code file://}, unknown schemes, hosts outside
   * {@code [a-z0-9.-]} (or an IPv6 literal), a bad port, dot segments or encoded slashes in the path: such a URL is
   * given no credentials.
   */
  public static Optional<GitUrl> parse(String url) {
    Matcher m = SCHEME_URL.matcher(url);
    if (m.matches()) {
      String scheme = m.group(1).toLowerCase(Locale.ROOT);
      if (defaultPort(scheme) < 0) return Optional.empty();
      String authority = m.group(2);
      int at = authority.lastIndexOf('@');
      String user = null;
      if (at >= 0) {
        String info = authority.substring(0, at);
        int colon = info.indexOf(':');
        user = colon >= 0 ? info.substring(0, colon) : info;
        // parsers disagree on odd user info (a backslash is a path separator for WHATWG, not for RFC 3986): refused
        if (!info.matches("[A-Za-z0-9._~%+!$&'()*,;=:@-]*")) return Optional.empty();
        authority = authority.substring(at + 1);
      }
      String hostPort = authority.toLowerCase(Locale.ROOT);
      int port = defaultPort(scheme);
      int colon = hostPort.lastIndexOf(':');
      if (colon >= 0 && hostPort.indexOf(']', colon) < 0) {
        String p = hostPort.substring(colon + 1);
        hostPort = hostPort.substring(0, colon);
        if (!p.isEmpty()) {
          if (!p.matches("[0-9]{1,5}") || Integer.parseInt(p) < 1 || Integer.parseInt(p) > 65535) {
            return Optional.empty();
          }
          port = Integer.parseInt(p);
        }
      }
      return make(scheme, user, hostPort, port, m.group(3));
    }
    if (url.contains("://") || url.startsWith("/")) return Optional.empty();
    Matcher s = SCP_LIKE.matcher(url);
    // an '@' after the colon means "user:password@host:path", which git would read as host "user": refused
    if (s.matches() && !s.group(3).contains("@")) {
      String path = s.group(3).startsWith("/") ? s.group(3) : "/" + s.group(3);
      return make("ssh", s.group(1), s.group(2).toLowerCase(Locale.ROOT), 22, path);
    }
    return Optional.empty();
  }

  private static Optional<GitUrl> make(String scheme, @Nullable String user, String host, int port, String path) {
    if (!HOST.matcher(host).matches()) return Optional.empty();
    String p = path.isEmpty() ? "/" : path;
    String lower = p.toLowerCase(Locale.ROOT);
    if (DOT_SEGMENT.matcher(p).find() || lower.contains("%2f") || lower.contains("%5c") || p.contains("\\")) {
      return Optional.empty();
    }
    return Optional.of(new GitUrl(scheme, user, host, port, p));
  }

  /** {@code scheme://host[:port]}, the port only when it is not the transport's default. */
  public String origin() {
    return scheme + "://" + host + (port == defaultPort(scheme) ? "" : ":" + port);
  }

  /** The URL without user info, as given to git: {@code origin + path}. */
  public String withoutUserInfo() {
    return origin() + path;
  }

  /**
   * Whether this URL lies under {@code prefix}: same scheme, host and port, and the prefix's path is this path or a
   * whole-segment ancestor of it ({@code /acme} and {@code /acme/} cover {@code /acme/x.git}, never
   * {@code /acme-evil/x.git}). The prefix's user is not compared.
   */
  public boolean isUnder(GitUrl prefix) {
    if (!scheme.equals(prefix.scheme) || !host.equals(prefix.host) || port != prefix.port) return false;
    String p = prefix.path.endsWith("/") ? prefix.path.substring(0, prefix.path.length() - 1) : prefix.path;
    return p.isEmpty() || path.equals(p) || path.startsWith(p + "/");
  }

  @Override
  public String toString() {
    return withoutUserInfo();
  }
}
