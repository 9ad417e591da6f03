package dev.byop.store.jdbc.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.byop.core.App;
import dev.byop.core.spi.Store;
import dev.byop.store.jdbc.JdbcStoreFactory;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stored git URLs that older versions kept with a token lose it when the store is opened. */
class ScrubGitUrlTokensTest {
  @Test
  void scrubsEveryFormAndLeavesCleanUrls() {
    assertEquals("https://h/r.git", V3__ScrubGitUrlTokens.scrub("https://u:tok@h/r.git"));
    assertEquals("https://h/r.git", V3__ScrubGitUrlTokens.scrub("HTTPS://u:t@k/x@h/r.git").toLowerCase());
    assertEquals("https://h/r.git", V3__ScrubGitUrlTokens.scrub("https://ghp_tok@h/r.git"));
    assertEquals("ssh://git@h/r.git", V3__ScrubGitUrlTokens.scrub("ssh://git:pw@h/r.git"));
    assertEquals("h:r.git", V3__ScrubGitUrlTokens.scrub("u:p@h:r.git"));
    assertEquals("git@h:r.git", V3__ScrubGitUrlTokens.scrub("git@h:r.git"));
    assertEquals("ssh://git@h/r.git", V3__ScrubGitUrlTokens.scrub("ssh://git@h/r.git"));
  }

  @Test
  void aStoreWrittenByTheOlderVersionIsScrubbedOnOpen(@TempDir Path tmp) throws Exception {
    String url = JdbcStoreFactory.h2Url(tmp);
    Flyway.configure().dataSource(url, null, null).locations(StoreOpener.MIGRATIONS).table(StoreOpener.HISTORY_TABLE)
        .target("2").load().migrate();
    try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
      st.execute("INSERT INTO byop_app (id, name, created_at, updated_at) VALUES ('shop', 'shop', CURRENT_TIMESTAMP,"
          + " CURRENT_TIMESTAMP)");
      st.execute("INSERT INTO byop_component (app_id, position, name, git_url, context_dir, dockerfile, build_args,"
          + " port, env) VALUES ('shop', 0, 'web', 'https://ci:old-tok%40x@git.example/shop.git', '.', 'Dockerfile',"
          + " '{}', 0, '{}')");
    }
    try (Store store = JdbcStoreFactory.open(url, null, null, null, 2)) {
      App app = store.findApp("shop").orElseThrow();
      assertEquals("https://git.example/shop.git", app.components().get(0).source().url());
    }
    try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT git_url FROM byop_component")) {
      rs.next();
      assertFalse(rs.getString(1).contains("old-tok"));
    }
  }
}
