package dev.byop.buildkit;

import dev.byop.core.SecretRef;
import dev.byop.store.jdbc.internal.JdbiStore;
import dev.byop.testing.Testbed;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/** Hostile build output through {@link dev.byop.core.Byop} on the test bed's PostgreSQL, in a fresh schema. */
class PgHostileBuildLogsIT extends HostileBuildLogsContract {
  private final String schema = "redact_it_"
      + UUID.randomUUID().toString().replace("-", "").substring(0, 12).toLowerCase(Locale.ROOT);

  @Override
  protected Map<String, Object> storeConfig() {
    Testbed.Postgres pg = Testbed.get().postgres();
    return Map.of("provider", "jdbc", "url", pg.jdbcUrl(), "user", pg.user(), "password",
        SecretRef.value(pg.password()), "schema", schema);
  }

  @Override
  protected void dropStore(JdbiStore store) {
    store.jdbi().useHandle(h -> h.execute("DROP SCHEMA " + schema + " CASCADE"));
  }
}
