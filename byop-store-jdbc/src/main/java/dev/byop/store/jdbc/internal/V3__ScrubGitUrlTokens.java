package dev.byop.store.jdbc.internal;

import dev.byop.core.GitSource;
import dev.byop.core.ValidationException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes the tokens that older versions kept in stored git URLs ({@code https://user:token@host/…}): byop now
 * refuses such URLs, so they would neither load nor should they stay in a row. In Java rather than SQL because
 * PostgreSQL and H2 share no regular-expression replace syntax, and the password may hold {@code @} or {@code /}.
 * The app then fetches without that token until it is given credentials as references.
 */
public final class V3__ScrubGitUrlTokens extends BaseJavaMigration {
  private static final Logger LOG = LoggerFactory.getLogger(V3__ScrubGitUrlTokens.class);

  @Override
  public void migrate(Context context) throws Exception {
    Connection c = context.getConnection();
    Map<String[], String> changes = new LinkedHashMap<>();
    try (PreparedStatement q = c.prepareStatement("SELECT app_id, name, git_url FROM byop_component"
        + " WHERE git_url LIKE '%@%'"); ResultSet rs = q.executeQuery()) {
      while (rs.next()) {
        String url = rs.getString(3);
        String clean = scrub(url);
        if (!clean.equals(url)) changes.put(new String[] {rs.getString(1), rs.getString(2)}, clean);
      }
    }
    try (PreparedStatement u = c.prepareStatement(
        "UPDATE byop_component SET git_url = ? WHERE app_id = ? AND name = ?")) {
      for (var e : changes.entrySet()) {
        u.setString(1, e.getValue());
        u.setString(2, e.getKey()[0]);
        u.setString(3, e.getKey()[1]);
        u.executeUpdate();
        LOG.warn("the stored git URL of app {} component {} held a token; it was removed (give the app credentials"
            + " as references instead)", e.getKey()[0], e.getKey()[1]);
      }
    }
  }

  /** The URL without its password or token; unchanged when it holds none (or cannot be made valid). */
  static String scrub(String url) {
    if (valid(url)) return url;
    int scheme = url.indexOf("://");
    int at = url.lastIndexOf('@');
    String clean;
    if (scheme >= 0 && at > scheme) {
      String s = url.substring(0, scheme).toLowerCase(Locale.ROOT);
      String info = url.substring(scheme + 3, at);
      boolean keepUser = !(s.equals("https") || s.equals("http")) && info.indexOf(':') > 0;
      clean = url.substring(0, scheme + 3) + (keepUser ? info.substring(0, info.indexOf(':')) + "@" : "")
          + url.substring(at + 1);
    } else if (scheme < 0 && at > 0 && url.indexOf(':') < at) {
      clean = url.substring(at + 1);
    } else {
      return url;
    }
    return valid(clean) ? clean : url;
  }

  private static boolean valid(String url) {
    try {
      GitSource.of(url);
      return true;
    } catch (ValidationException e) {
      return false;
    }
  }
}
