package dev.byop.registry.internal;

import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the registry's answer out of the text of a Docker Engine push error (the engine reports registry failures
 * only as messages such as {@code unauthorized: authentication required} or
 * {@code received unexpected HTTP status: 503 Service Unavailable}).
 */
public final class EngineErrors {
  private static final Pattern HTTP_STATUS = Pattern.compile("unexpected http status: (\\d{3})");

  /**
   * What a push error means for byop.
   *
   * @param status the registry's HTTP status as far as the message tells, 0 when the registry was not reached
   * @param codes registry error codes named in the message
   * @param transient whether trying again may help (connection failures, 5xx)
   */
  public record Classified(int status, List<String> codes, boolean transientFailure) {}

  private EngineErrors() {}

  public static Classified classify(String message) {
    String m = message.toLowerCase(Locale.ROOT);
    if (m.contains("unauthorized") || m.contains("authentication required") || m.contains("no basic auth credentials")
        || m.contains("401 unauthorized")) {
      return new Classified(401, List.of("UNAUTHORIZED"), false);
    }
    if (m.startsWith("denied") || m.contains(" denied:") || m.contains("requested access to the resource is denied")) {
      return new Classified(403, List.of("DENIED"), false);
    }
    Matcher s = HTTP_STATUS.matcher(m);
    if (s.find()) {
      int status = Integer.parseInt(s.group(1));
      return new Classified(status, List.of(), status >= 500);
    }
    if (m.contains("connection refused") || m.contains("dial tcp") || m.contains("no such host")
        || m.contains("i/o timeout") || m.contains("connection reset") || m.contains("tls handshake timeout")
        || m.endsWith(": eof") || m.contains("server misbehaving")) {
      return new Classified(0, List.of(), true);
    }
    for (String code : List.of("blob_unknown", "blob_upload_invalid", "digest_invalid", "manifest_invalid",
        "name_invalid", "name_unknown", "size_invalid", "tag_invalid", "unsupported", "toomanyrequests")) {
      if (m.contains(code.replace('_', ' ')) || m.contains(code)) {
        return new Classified(code.equals("toomanyrequests") ? 429 : 400, List.of(code.toUpperCase(Locale.ROOT)), false);
      }
    }
    return new Classified(0, List.of(), false);
  }
}
