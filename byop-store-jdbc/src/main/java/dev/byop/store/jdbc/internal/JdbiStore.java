package dev.byop.store.jdbc.internal;

import dev.byop.core.App;
import dev.byop.core.BuildConfig;
import dev.byop.core.BuildJob;
import dev.byop.core.BuildStatus;
import dev.byop.core.Component;
import dev.byop.core.GitCredentials;
import dev.byop.core.GitSource;
import dev.byop.core.LogLine;
import dev.byop.core.NotFoundException;
import dev.byop.core.Preview;
import dev.byop.core.PreviewStatus;
import dev.byop.core.StoreException;
import dev.byop.core.internal.LogHub;
import dev.byop.core.spi.Store;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.JdbiException;
import org.jdbi.v3.core.argument.Argument;
import org.jdbi.v3.core.statement.PreparedBatch;
import org.jdbi.v3.core.statement.StatementContext;
import org.jspecify.annotations.Nullable;
import java.sql.ResultSet;

/**
 * The {@link Store} on Jdbi: every method is one transaction; status changes are conditional updates on the expected
 * status (and lease owner), so a lost race changes nothing and is reported.
 */
public final class JdbiStore implements Store {
  private static final String RUNNING = "('FETCHING', 'BUILDING', 'PUSHING')";
  private static final String JOB_COLUMNS = "id, app_id, component, config, status, pending_at, fetching_at,"
      + " building_at, pushing_at, success_at, failed_at, cancelled_at, attempt, lease_owner, lease_expires_at,"
      + " git_commit, image, digest, error";
  private static final String PREVIEW_COLUMNS = "id, app_id, status, deployer, git_commit, hostname, host, address,"
      + " url, images, created_at, updated_at, expires_at, attempt, error";

  /** The size of the error columns (V1__schema.sql); longer errors are cut to it, never refused. */
  static final int ERROR_CHARS = 10_000;
  /** The size of the log line column (V1__schema.sql). */
  static final int LINE_CHARS = 100_000;

  /** The SQL dialects this store speaks. */
  public enum Dialect { H2, POSTGRESQL }

  private final Jdbi jdbi;
  private final Dialect dialect;
  private final AutoCloseable resources;
  // H2 has no SKIP LOCKED we rely on; claims are conditional updates, and inside one JVM they also take a lock shared
  // by every store on the same database, so that workers do not wait on each other's row locks and lose races.
  private static final Map<String, ReentrantLock> H2_CLAIM_LOCKS = new java.util.concurrent.ConcurrentHashMap<>();
  private final ReentrantLock h2ClaimLock;
  private volatile boolean closed;

  /**
   * @param database identifies the database (its URL without parameters), so that stores on one H2 database in this
   *     JVM share their claim lock
   */
  public JdbiStore(Jdbi jdbi, Dialect dialect, String database, AutoCloseable resources) {
    this.jdbi = jdbi;
    this.dialect = dialect;
    this.resources = resources;
    this.h2ClaimLock = H2_CLAIM_LOCKS.computeIfAbsent(database, k -> new ReentrantLock());
  }

  public Dialect dialect() {
    return dialect;
  }

  /** The Jdbi instance, for tests of the schema itself. */
  public Jdbi jdbi() {
    return jdbi;
  }

  // ---------------------------------------------------------------- helpers

  static Argument ts(@Nullable Instant t) {
    return (pos, stmt, ctx) -> {
      if (t == null) stmt.setNull(pos, Types.TIMESTAMP_WITH_TIMEZONE);
      else stmt.setObject(pos, OffsetDateTime.ofInstant(t, ZoneOffset.UTC));
    };
  }

  /** Databases keep microseconds; truncating first means what we return equals what a later read returns. */
  static Instant micros(Instant t) {
    return t.truncatedTo(ChronoUnit.MICROS);
  }

  static @Nullable Instant instant(ResultSet rs, String column) throws SQLException {
    OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
    return t == null ? null : t.toInstant();
  }

  /** A value for a text column of {@code max} characters: cut with a visible marker, NUL replaced (see LogHub#cut). */
  static @Nullable String text(@Nullable String value, int max) {
    return value == null ? null : LogHub.cut(value, max);
  }

  private <T> T tx(org.jdbi.v3.core.HandleCallback<T, RuntimeException> work) {
    if (closed) throw new StoreException("store is closed");
    try {
      return jdbi.inTransaction(work);
    } catch (JdbiException e) {
      throw new StoreException("database operation failed: " + rootMessage(e), e);
    }
  }

  /** A read of one statement needs no transaction of its own: autocommit saves the BEGIN and COMMIT round trips. */
  private <T> T read(org.jdbi.v3.core.HandleCallback<T, RuntimeException> work) {
    if (closed) throw new StoreException("store is closed");
    try {
      return jdbi.withHandle(work);
    } catch (JdbiException e) {
      throw new StoreException("database operation failed: " + rootMessage(e), e);
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) t = t.getCause();
    String m = t.getMessage();
    return m == null ? t.getClass().getSimpleName() : m.lines().findFirst().orElse(m);
  }

  static boolean isUniqueViolation(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException s && "23505".equals(s.getSQLState())) return true;
    }
    return false;
  }

  private static String statusColumn(BuildStatus s) {
    return s.name().toLowerCase(Locale.ROOT) + "_at";
  }

  // ---------------------------------------------------------------- apps

  @Override
  public App saveApp(App app) {
    return tx(h -> {
      Instant now = micros(Instant.now());
      int updated = h.createUpdate("UPDATE byop_app SET name = :name, updated_at = :now WHERE id = :id")
          .bind("name", app.name()).bind("now", ts(now)).bind("id", app.id()).execute();
      if (updated == 0) {
        h.createUpdate("INSERT INTO byop_app (id, name, created_at, updated_at) VALUES (:id, :name, :now, :now)")
            .bind("id", app.id()).bind("name", app.name()).bind("now", ts(now)).execute();
      }
      h.createUpdate("DELETE FROM byop_component WHERE app_id = :id").bind("id", app.id()).execute();
      PreparedBatch b = h.prepareBatch("INSERT INTO byop_component (app_id, position, name, git_url, git_ref,"
          + " git_commit, git_username, git_token_ref, context_dir, dockerfile, build_args, port, env, health_path)"
          + " VALUES (:app, :pos, :name, :url, :ref, :commit, :gitUser, :gitToken, :ctx, :dockerfile, :args, :port,"
          + " :env, :health)");
      int pos = 0;
      for (Component c : app.components()) {
        b.bind("app", app.id()).bind("pos", pos++).bind("name", c.name()).bind("url", c.source().url())
            .bind("ref", c.source().ref()).bind("commit", c.source().commit())
            .bind("gitUser", c.source().credentials() == null ? null : c.source().credentials().username())
            .bind("gitToken", c.source().credentials() == null ? null
                : Codec.secretRef("component." + c.name() + ".source.credentials.token",
                    c.source().credentials().token()))
            .bind("ctx", c.contextDir())
            .bind("dockerfile", c.dockerfile()).bind("args", Codec.map(c.buildArgs())).bind("port", c.port())
            .bind("env", Codec.map(c.env())).bind("health", c.healthPath()).add();
      }
      b.execute();
      return app;
    });
  }

  /**
   * The app and its components in one statement: one round trip and no transaction (a statement reads one snapshot),
   * where two SELECTs would need BEGIN and COMMIT around them to agree. A job's worker reads its app this way.
   */
  @Override
  public Optional<App> findApp(String appId) {
    return read(h -> {
      List<Component> components = new ArrayList<>();
      String[] name = {null};
      h.createQuery("SELECT a.name AS app_name, c.name, c.git_url, c.git_ref, c.git_commit, c.git_username,"
          + " c.git_token_ref, c.context_dir, c.dockerfile, c.build_args, c.port, c.env, c.health_path"
          + " FROM byop_app a LEFT JOIN byop_component c ON c.app_id = a.id WHERE a.id = :id ORDER BY c.position")
          .bind("id", appId)
          .map((rs, ctx) -> {
            name[0] = rs.getString("app_name");
            // LEFT JOIN: an app without components is one row of NULL component columns
            return rs.getString("name") == null ? Optional.<Component>empty() : Optional.of(component(rs));
          })
          .forEach(c -> c.ifPresent(components::add));
      return name[0] == null ? Optional.<App>empty() : Optional.of(new App(appId, name[0], components));
    });
  }

  private static Component component(ResultSet rs) throws SQLException {
    return new Component(rs.getString("name"),
        new GitSource(rs.getString("git_url"), rs.getString("git_ref"), rs.getString("git_commit"),
            rs.getString("git_token_ref") == null ? null : GitCredentials.of(rs.getString("git_username"),
                Codec.secretRef(rs.getString("git_token_ref")))),
        rs.getString("context_dir"), rs.getString("dockerfile"), Codec.map(rs.getString("build_args")),
        rs.getInt("port"), Codec.map(rs.getString("env")), rs.getString("health_path"));
  }

  private Optional<App> loadApp(Handle h, String appId) {
    Optional<String> name = h.createQuery("SELECT name FROM byop_app WHERE id = :id").bind("id", appId)
        .mapTo(String.class).findOne();
    if (name.isEmpty()) return Optional.empty();
    List<Component> components = h.createQuery("SELECT * FROM byop_component WHERE app_id = :id ORDER BY position")
        .bind("id", appId)
        .map((rs, ctx) -> component(rs)).list();
    return Optional.of(new App(appId, name.get(), components));
  }

  @Override
  public List<App> listApps() {
    return tx(h -> {
      List<String> ids = h.createQuery("SELECT id FROM byop_app ORDER BY id").mapTo(String.class).list();
      List<App> out = new ArrayList<>();
      for (String id : ids) loadApp(h, id).ifPresent(out::add);
      return out;
    });
  }

  @Override
  public void deleteApp(String appId) {
    tx(h -> {
      if (h.createQuery("SELECT id FROM byop_app WHERE id = :id FOR UPDATE").bind("id", appId).mapTo(String.class)
          .findOne().isEmpty()) {
        throw new NotFoundException("app", appId);
      }
      int running = h.createQuery("SELECT COUNT(*) FROM byop_build_job WHERE app_id = :id AND status IN " + RUNNING)
          .bind("id", appId).mapTo(Integer.class).one();
      int previews = h.createQuery("SELECT COUNT(*) FROM byop_preview WHERE app_id = :id AND status <> 'STOPPED'")
          .bind("id", appId).mapTo(Integer.class).one();
      if (running > 0 || previews > 0) {
        throw new StoreException("app '" + appId + "' cannot be deleted: it has " + running + " running build job(s)"
            + " and " + previews + " preview(s) that are not stopped");
      }
      h.createUpdate("DELETE FROM byop_log WHERE owner_id IN (SELECT id FROM byop_build_job WHERE app_id = :id)"
          + " OR owner_id IN (SELECT id FROM byop_preview WHERE app_id = :id)").bind("id", appId).execute();
      h.createUpdate("DELETE FROM byop_build_job WHERE app_id = :id").bind("id", appId).execute();
      h.createUpdate("DELETE FROM byop_preview WHERE app_id = :id").bind("id", appId).execute();
      h.createUpdate("DELETE FROM byop_app WHERE id = :id").bind("id", appId).execute();
      return null;
    });
  }

  @Override
  public Optional<AppState> appState(String appId) {
    return read(h -> h.createQuery("SELECT id, current_image, current_digest, current_preview_id, current_preview_url"
        + " FROM byop_app WHERE id = :id").bind("id", appId)
        .map((rs, ctx) -> new AppState(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
            rs.getString(5)))
        .findOne());
  }

  // ---------------------------------------------------------------- build jobs

  @Override
  public BuildJob createBuildJob(String appId, String component, BuildConfig config, Instant now) {
    String json = Codec.buildConfig(config);
    return tx(h -> insertJob(h, appId, component, json, now));
  }

  private BuildJob insertJob(Handle h, String appId, String component, String configJson, Instant now) {
    // Locking the app row serialises job creation per app, so request order (seq) equals commit order and a
    // claimer can never see a younger job of an app before an older one.
    if (h.createQuery("SELECT id FROM byop_app WHERE id = :id FOR UPDATE").bind("id", appId).mapTo(String.class)
        .findOne().isEmpty()) {
      throw new NotFoundException("app", appId);
    }
    int comps = h.createQuery("SELECT COUNT(*) FROM byop_component WHERE app_id = :a AND name = :c")
        .bind("a", appId).bind("c", component).mapTo(Integer.class).one();
    if (comps == 0) throw new NotFoundException("component", appId + "/" + component);
    String id = UUID.randomUUID().toString();
    h.createUpdate("INSERT INTO byop_build_job (id, app_id, component, config, status, pending_at, attempt)"
        + " VALUES (:id, :app, :comp, :config, 'PENDING', :now, 0)")
        .bind("id", id).bind("app", appId).bind("comp", component).bind("config", configJson)
        .bind("now", ts(micros(now))).execute();
    return loadJob(h, id).orElseThrow();
  }

  private static BuildJob mapJob(ResultSet rs, StatementContext ctx) throws SQLException {
    Map<BuildStatus, Instant> times = new EnumMap<>(BuildStatus.class);
    for (BuildStatus s : BuildStatus.values()) {
      Instant t = instant(rs, statusColumn(s));
      if (t != null) times.put(s, t);
    }
    return new BuildJob(rs.getString("id"), rs.getString("app_id"), rs.getString("component"),
        Codec.buildConfig(rs.getString("config")), BuildStatus.valueOf(rs.getString("status")), times,
        rs.getInt("attempt"), rs.getString("lease_owner"), instant(rs, "lease_expires_at"), rs.getString("git_commit"),
        rs.getString("image"), rs.getString("digest"), rs.getString("error"));
  }

  private Optional<BuildJob> loadJob(Handle h, String id) {
    return h.createQuery("SELECT " + JOB_COLUMNS + " FROM byop_build_job WHERE id = :id").bind("id", id)
        .map(JdbiStore::mapJob).findOne();
  }

  @Override
  public Optional<BuildJob> findBuildJob(String jobId) {
    return read(h -> loadJob(h, jobId));
  }

  @Override
  public List<BuildJob> listBuildJobs(String appId, int limit) {
    return read(h -> h.createQuery("SELECT " + JOB_COLUMNS + " FROM byop_build_job WHERE app_id = :a ORDER BY seq DESC"
        + " LIMIT :n").bind("a", appId).bind("n", limit).map(JdbiStore::mapJob).list());
  }

  @Override
  public java.util.OptionalLong countBuildJobs(BuildStatus status) {
    return java.util.OptionalLong.of(read(h -> h.createQuery("SELECT COUNT(*) FROM byop_build_job WHERE status = :s")
        .bind("s", status.name()).mapTo(Long.class).one()));
  }

  /**
   * A job is claimable when it is the oldest PENDING job of its (app, component) and nothing of that component is
   * running: builds of one component run one at a time in request order, the components of one app in parallel.
   */
  // Two NOT EXISTS rather than one with OR: each is a range probe on the (app_id, component, status, seq) index.
  private static final String CLAIMABLE = "j.status = 'PENDING'"
      + " AND NOT EXISTS (SELECT 1 FROM byop_build_job o WHERE o.app_id = j.app_id AND o.component = j.component"
      + " AND o.status = 'PENDING' AND o.seq < j.seq)"
      + " AND NOT EXISTS (SELECT 1 FROM byop_build_job r WHERE r.app_id = j.app_id AND r.component = j.component"
      + " AND r.status IN " + RUNNING + ")";

  @Override
  public Optional<BuildJob> claimBuildJob(String workerId, Instant now, Duration lease) {
    Instant at = micros(now);
    Instant until = micros(now.plus(lease));
    if (dialect == Dialect.POSTGRESQL) {
      // One statement, one round trip (autocommit): the row is picked and locked by the subquery (rows another claimer
      // holds are skipped), moved and returned by the UPDATE; a statement is atomic, so no transaction is needed.
      return read(h -> h.createQuery("UPDATE byop_build_job SET status = 'FETCHING', fetching_at = :now,"
          + " attempt = attempt + 1, lease_owner = :w, lease_expires_at = :until, error = NULL"
          + " WHERE id = (SELECT j.id FROM byop_build_job j WHERE " + CLAIMABLE
          + " ORDER BY j.seq LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING " + JOB_COLUMNS)
          .bind("now", ts(at)).bind("w", workerId).bind("until", ts(until)).map(JdbiStore::mapJob).findOne());
    }
    h2ClaimLock.lock();
    try {
      for (int round = 0; round < 5; round++) {
        Optional<BuildJob> claimed = tx(h -> {
          Optional<String> id = h2Candidate(h);
          if (id.isEmpty()) return null;
          // The same predicate again inside the UPDATE: if another process claimed or cancelled meanwhile, the
          // count is 0 and nothing changes.
          int n = h.createUpdate("UPDATE byop_build_job j SET status = 'FETCHING', fetching_at = :now,"
              + " attempt = attempt + 1, lease_owner = :w, lease_expires_at = :until, error = NULL"
              + " WHERE j.id = :id AND " + CLAIMABLE)
              .bind("now", ts(at)).bind("w", workerId).bind("until", ts(until)).bind("id", id.get()).execute();
          return n == 1 ? loadJob(h, id.get()) : Optional.<BuildJob>empty();
        });
        if (claimed == null) return Optional.empty();
        if (claimed.isPresent()) return claimed;
      }
      return Optional.empty();
    } finally {
      h2ClaimLock.unlock();
    }
  }

  /**
   * H2 evaluates the claim predicate for every PENDING row before sorting, so the candidate is found in Java instead:
   * walking PENDING jobs in request order, the first one whose component has nothing running is its component's
   * oldest.
   */
  private static Optional<String> h2Candidate(Handle h) {
    java.util.Set<List<String>> busy = new java.util.HashSet<>(h.createQuery(
        "SELECT DISTINCT app_id, component FROM byop_build_job WHERE status IN " + RUNNING)
        .map((rs, ctx) -> List.of(rs.getString(1), rs.getString(2))).list());
    try (var rows = h.createQuery("SELECT id, app_id, component FROM byop_build_job WHERE status = 'PENDING'"
        + " ORDER BY seq").setFetchSize(64)
        .map((rs, ctx) -> new String[] {rs.getString(1), rs.getString(2), rs.getString(3)}).iterator()) {
      while (rows.hasNext()) {
        String[] row = rows.next();
        if (!busy.contains(List.of(row[1], row[2]))) return Optional.of(row[0]);
      }
    }
    return Optional.empty();
  }

  @Override
  public boolean renewBuildLease(String jobId, String workerId, Instant now, Duration lease) {
    return read(h -> h.createUpdate("UPDATE byop_build_job SET lease_expires_at = :until WHERE id = :id"
        + " AND lease_owner = :w AND status IN " + RUNNING)
        .bind("until", ts(micros(now.plus(lease)))).bind("id", jobId).bind("w", workerId).execute() == 1);
  }

  @Override
  public BuildJob transitionBuildJob(BuildTransition c) {
    c.from().checkMoveTo(c.to(), "build job " + c.jobId());
    boolean leased = c.to().isRunning();
    StringBuilder sql = new StringBuilder("UPDATE byop_build_job SET status = :to, ")
        .append(statusColumn(c.to())).append(" = :now");
    if (!leased) sql.append(", lease_owner = NULL, lease_expires_at = NULL");
    if (c.commit() != null) sql.append(", git_commit = :commit");
    if (c.image() != null) sql.append(", image = :image");
    if (c.digest() != null) sql.append(", digest = :digest");
    if (c.error() != null || c.to() == BuildStatus.PENDING) sql.append(", error = :error");
    sql.append(" WHERE id = :id AND status = :from");
    if (c.workerId() != null) sql.append(" AND lease_owner = :w");
    if (dialect == Dialect.POSTGRESQL) {
      return transitionInOneStatement(c, sql);
    }
    return tx(h -> {
      if (bindTransition(h.createUpdate(sql.toString()), c).execute() != 1) {
        throw notMoved(h, c);
      }
      BuildJob job = loadJob(h, c.jobId()).orElseThrow();
      if (c.to() == BuildStatus.SUCCESS) {
        // a preview's job builds whatever commit the preview asks for: it does not become the app's current image
        h.createUpdate("UPDATE byop_app SET current_image = :image, current_digest = :digest, updated_at = :now"
            + " WHERE id = :app AND NOT EXISTS (SELECT 1 FROM byop_preview_build b WHERE b.job_id = :job)")
            .bind("job", job.id()).bind("image", job.image()).bind("digest", job.digest())
            .bind("now", ts(micros(c.now()))).bind("app", job.appId()).execute();
      }
      return job;
    });
  }

  /**
   * PostgreSQL: the move, its result and (on SUCCESS) the app's current image in one statement and one round trip:
   * {@code UPDATE … RETURNING} inside a data-modifying CTE. Only when it moved nothing is the row read to say why.
   */
  private BuildJob transitionInOneStatement(BuildTransition c, StringBuilder update) {
    String moved = update + " RETURNING " + JOB_COLUMNS;
    String sql = c.to() == BuildStatus.SUCCESS
        // a preview's job builds whatever commit the preview asks for: it does not become the app's current image
        ? "WITH j AS (" + moved + "), a AS (UPDATE byop_app SET current_image = j.image, current_digest = j.digest,"
            + " updated_at = :now FROM j WHERE byop_app.id = j.app_id AND NOT EXISTS"
            + " (SELECT 1 FROM byop_preview_build b WHERE b.job_id = j.id)) SELECT * FROM j"
        : moved;
    return read(h -> bindTransition(h.createQuery(sql), c).map(JdbiStore::mapJob).findOne()
        .orElseThrow(() -> notMoved(h, c)));
  }

  /** The values of a transition's UPDATE (built by {@link #transitionBuildJob}). */
  private static <S extends org.jdbi.v3.core.statement.SqlStatement<S>> S bindTransition(S s, BuildTransition c) {
    s.bind("to", c.to().name()).bind("now", ts(micros(c.now()))).bind("id", c.jobId()).bind("from", c.from().name());
    if (c.commit() != null) s.bind("commit", c.commit());
    if (c.image() != null) s.bind("image", c.image());
    if (c.digest() != null) s.bind("digest", c.digest());
    // cut, not refused: a too-long reason must not turn a FAILED transition into a job stuck while running
    if (c.error() != null || c.to() == BuildStatus.PENDING) s.bind("error", text(c.error(), ERROR_CHARS));
    if (c.workerId() != null) s.bind("w", c.workerId());
    return s;
  }

  /** Why a transition's UPDATE moved nothing: the job is gone, in another status, or held by another worker. */
  private StoreException notMoved(Handle h, BuildTransition c) {
    BuildJob now = loadJob(h, c.jobId()).orElseThrow(() -> new NotFoundException("build job", c.jobId()));
    if (now.status() != c.from()) {
      return new StoreException("build job " + c.jobId() + " is " + now.status() + ", not " + c.from()
          + "; not moved to " + c.to());
    }
    return new StoreException("build job " + c.jobId() + " is no longer held by worker " + c.workerId()
        + "; not moved to " + c.to());
  }

  @Override
  public List<BuildJob> recoverExpiredBuildJobs(Instant now, int maxAttempts) {
    Instant at = micros(now);
    return tx(h -> {
      String lock = dialect == Dialect.POSTGRESQL ? " FOR UPDATE SKIP LOCKED" : "";
      List<BuildJob> expired = h.createQuery("SELECT " + JOB_COLUMNS + " FROM byop_build_job WHERE status IN "
          + RUNNING + " AND lease_expires_at < :now ORDER BY seq" + lock).bind("now", ts(at))
          .map(JdbiStore::mapJob).list();
      List<BuildJob> changed = new ArrayList<>();
      for (BuildJob j : expired) {
        boolean giveUp = j.attempt() >= maxAttempts;
        String sql = giveUp
            ? "UPDATE byop_build_job SET status = 'FAILED', failed_at = :now, lease_owner = NULL,"
                + " lease_expires_at = NULL, error = :error WHERE id = :id AND status = :s AND lease_expires_at < :now"
            : "UPDATE byop_build_job SET status = 'PENDING', lease_owner = NULL, lease_expires_at = NULL"
                + " WHERE id = :id AND status = :s AND lease_expires_at < :now";
        var u = h.createUpdate(sql).bind("now", ts(at)).bind("id", j.id()).bind("s", j.status().name());
        if (giveUp) {
          u.bind("error", "lease expired " + j.attempt() + " time" + (j.attempt() == 1 ? "" : "s")
              + " (worker " + j.leaseOwner() + " lost while " + j.status() + "); gave up after " + j.attempt()
              + " attempt" + (j.attempt() == 1 ? "" : "s"));
        }
        if (u.execute() == 1) changed.add(loadJob(h, j.id()).orElseThrow());
      }
      List<String> orphans = h.createQuery("SELECT j.id FROM byop_build_job j WHERE j.status = 'PENDING' AND NOT EXISTS"
          + " (SELECT 1 FROM byop_component c WHERE c.app_id = j.app_id AND c.name = j.component)")
          .mapTo(String.class).list();
      for (String id : orphans) {
        int n = h.createUpdate("UPDATE byop_build_job SET status = 'FAILED', failed_at = :now, error = :error"
            + " WHERE id = :id AND status = 'PENDING'").bind("now", ts(at)).bind("id", id)
            .bind("error", "the app no longer has this component; the job can never run").execute();
        if (n == 1) changed.add(loadJob(h, id).orElseThrow());
      }
      return changed;
    });
  }

  // ---------------------------------------------------------------- logs

  /**
   * PostgreSQL: the numbering and the rows in one statement (one round trip, autocommit): the owner's last number read
   * and the lines inserted after it from one array, the new last number returned.
   */
  private static final String APPEND_LOG_PG = "WITH last AS (SELECT COALESCE(MAX(seq), 0) AS n FROM byop_log"
      + " WHERE owner_id = :o), ins AS (INSERT INTO byop_log (owner_id, seq, at, line)"
      + " SELECT :o, last.n + t.ord, :t, t.line FROM last, unnest(CAST(:lines AS text[])) WITH ORDINALITY AS t(line, ord)"
      + " RETURNING seq) SELECT COALESCE((SELECT MAX(seq) FROM ins), (SELECT n FROM last))";

  @Override
  public long appendLog(String ownerId, List<String> lines, Instant time) {
    for (int attempt = 0; ; attempt++) {
      try {
        if (dialect == Dialect.POSTGRESQL) {
          String[] cut = lines.stream().map(l -> text(l, LINE_CHARS)).toArray(String[]::new);
          return read(h -> h.createQuery(APPEND_LOG_PG).bind("o", ownerId).bind("t", ts(micros(time)))
              .bindArray("lines", String.class, (Object[]) cut).mapTo(Long.class).one());
        }
        return tx(h -> {
          long last = h.createQuery("SELECT COALESCE(MAX(seq), 0) FROM byop_log WHERE owner_id = :o")
              .bind("o", ownerId).mapTo(Long.class).one();
          if (lines.isEmpty()) return last;
          PreparedBatch b = h.prepareBatch("INSERT INTO byop_log (owner_id, seq, at, line) VALUES (:o, :s, :t, :l)");
          long seq = last;
          Argument at = ts(micros(time));
          for (String line : lines) {
            b.bind("o", ownerId).bind("s", ++seq).bind("t", at).bind("l", text(line, LINE_CHARS)).add();
          }
          b.execute();
          return seq;
        });
      } catch (StoreException e) {
        // Two writers of one owner raced for the same numbers; the primary key refused the second, so retry.
        if (attempt >= 20 || !isUniqueViolation(e)) throw e;
      }
    }
  }

  @Override
  public List<LogLine> readLog(String ownerId, long afterSeq, int limit) {
    return read(h -> h.createQuery("SELECT seq, at, line FROM byop_log WHERE owner_id = :o AND seq > :after"
        + " ORDER BY seq LIMIT :n").bind("o", ownerId).bind("after", afterSeq).bind("n", limit)
        .map((rs, ctx) -> new LogLine(ownerId, rs.getLong(1), instant(rs, "at"), rs.getString(3))).list());
  }

  // ---------------------------------------------------------------- previews

  private static Preview mapPreview(ResultSet rs, StatementContext ctx) throws SQLException {
    return new Preview(rs.getString("id"), rs.getString("app_id"), PreviewStatus.valueOf(rs.getString("status")),
        rs.getString("deployer"), rs.getString("git_commit"), rs.getString("hostname"), rs.getString("host"),
        rs.getString("address"), rs.getString("url"), Codec.map(rs.getString("images")), instant(rs, "created_at"),
        instant(rs, "updated_at"), instant(rs, "expires_at"), rs.getInt("attempt"), rs.getString("error"));
  }

  private Optional<Preview> loadPreview(Handle h, String id) {
    return h.createQuery("SELECT " + PREVIEW_COLUMNS + " FROM byop_preview WHERE id = :id").bind("id", id)
        .map(JdbiStore::mapPreview).findOne();
  }

  @Override
  public Preview createPreview(String appId, String deployer, @Nullable String commit, String hostname, Instant now,
      @Nullable Instant expiresAt) {
    return tx(h -> {
      if (h.createQuery("SELECT id FROM byop_app WHERE id = :id").bind("id", appId).mapTo(String.class).findOne()
          .isEmpty()) {
        throw new NotFoundException("app", appId);
      }
      String id = UUID.randomUUID().toString();
      h.createUpdate("INSERT INTO byop_preview (id, app_id, status, deployer, git_commit, hostname, images,"
          + " created_at, updated_at, expires_at, attempt) VALUES (:id, :app, 'BUILDING', :deployer, :commit,"
          + " :hostname, '{}', :now, :now, :expires, 0)")
          .bind("id", id).bind("app", appId).bind("deployer", deployer).bind("commit", commit)
          .bind("hostname", hostname).bind("now", ts(micros(now)))
          .bind("expires", ts(expiresAt == null ? null : micros(expiresAt))).execute();
      return loadPreview(h, id).orElseThrow();
    });
  }

  @Override
  public Optional<Preview> findPreview(String previewId) {
    return read(h -> loadPreview(h, previewId));
  }

  @Override
  public List<Preview> listPreviews(String appId) {
    return read(h -> h.createQuery("SELECT " + PREVIEW_COLUMNS + " FROM byop_preview WHERE app_id = :a"
        + " AND status <> 'STOPPED' ORDER BY created_at DESC, id").bind("a", appId).map(JdbiStore::mapPreview).list());
  }

  @Override
  public List<Preview> listActivePreviews() {
    return read(h -> h.createQuery("SELECT " + PREVIEW_COLUMNS + " FROM byop_preview WHERE status <> 'STOPPED'"
        + " ORDER BY created_at, id").map(JdbiStore::mapPreview).list());
  }

  private static final String PREVIEW_CLAIMABLE = "p.status IN ('BUILDING', 'DEPLOYING', 'STOPPING')"
      + " AND (p.lease_owner IS NULL OR p.lease_expires_at < :now)";

  @Override
  public Optional<Preview> claimPreview(String workerId, Instant now, Duration lease) {
    Instant at = micros(now);
    Instant until = micros(now.plus(lease));
    String lock = dialect == Dialect.POSTGRESQL ? " FOR UPDATE SKIP LOCKED" : "";
    for (int round = 0; round < 5; round++) {
      Optional<Preview> claimed = tx(h -> {
        Optional<String> id = h.createQuery("SELECT p.id FROM byop_preview p WHERE " + PREVIEW_CLAIMABLE
            + " ORDER BY p.updated_at, p.id LIMIT 1" + lock).bind("now", ts(at)).mapTo(String.class).findOne();
        if (id.isEmpty()) return null;
        int n = h.createUpdate("UPDATE byop_preview p SET lease_owner = :w, lease_expires_at = :until,"
            + " attempt = attempt + 1 WHERE p.id = :id AND " + PREVIEW_CLAIMABLE)
            .bind("w", workerId).bind("until", ts(until)).bind("id", id.get()).bind("now", ts(at)).execute();
        return n == 1 ? loadPreview(h, id.get()) : Optional.<Preview>empty();
      });
      if (claimed == null) return Optional.empty();
      if (claimed.isPresent()) return claimed;
    }
    return Optional.empty();
  }

  @Override
  public Optional<Preview> claimPreview(String previewId, String workerId, Instant now, Duration lease) {
    Instant at = micros(now);
    return tx(h -> {
      int n = h.createUpdate("UPDATE byop_preview p SET lease_owner = :w, lease_expires_at = :until,"
          + " attempt = attempt + 1 WHERE p.id = :id AND " + PREVIEW_CLAIMABLE)
          .bind("w", workerId).bind("until", ts(micros(now.plus(lease)))).bind("id", previewId).bind("now", ts(at))
          .execute();
      return n == 1 ? loadPreview(h, previewId) : Optional.<Preview>empty();
    });
  }

  @Override
  public boolean renewPreviewLease(String previewId, String workerId, Instant now, Duration lease) {
    return read(h -> h.createUpdate("UPDATE byop_preview SET lease_expires_at = :until WHERE id = :id"
        + " AND lease_owner = :w AND status IN ('BUILDING', 'DEPLOYING', 'STOPPING')")
        .bind("until", ts(micros(now.plus(lease)))).bind("id", previewId).bind("w", workerId).execute() == 1);
  }

  @Override
  public Preview transitionPreview(PreviewTransition c) {
    if (c.from() != c.to()) c.from().checkMoveTo(c.to(), "preview " + c.previewId());
    boolean release = c.to() == PreviewStatus.RUNNING || c.to() == PreviewStatus.FAILED
        || c.to() == PreviewStatus.STOPPED;
    // a new round of building: entering BUILDING, or BUILDING again from outside (a redeploy while building)
    boolean redeploy = c.to() == PreviewStatus.BUILDING
        && (c.from() != PreviewStatus.BUILDING || c.workerId() == null);
    // entering STOPPING frees the tear-down for any worker (or the deleting caller) to claim at once
    boolean stop = c.to() == PreviewStatus.STOPPING && c.from() != PreviewStatus.STOPPING;
    StringBuilder sql = new StringBuilder("UPDATE byop_preview SET status = :to, updated_at = :now, error = :error");
    if (release || redeploy || stop) sql.append(", lease_owner = NULL, lease_expires_at = NULL");
    if (redeploy || stop) sql.append(", attempt = 0");
    if (c.host() != null) sql.append(", host = :host");
    if (c.address() != null) sql.append(", address = :address");
    if (c.url() != null) sql.append(", url = :url");
    if (c.images() != null) sql.append(", images = :images");
    if (c.commit() != null) sql.append(", git_commit = :commit");
    sql.append(" WHERE id = :id AND status = :from");
    if (c.workerId() != null) sql.append(" AND lease_owner = :w");
    return tx(h -> {
      var u = h.createUpdate(sql.toString()).bind("to", c.to().name()).bind("now", ts(micros(c.now())))
          .bind("error", text(c.error(), ERROR_CHARS)).bind("id", c.previewId()).bind("from", c.from().name());
      if (c.host() != null) u.bind("host", c.host());
      if (c.address() != null) u.bind("address", c.address());
      if (c.url() != null) u.bind("url", c.url());
      if (c.images() != null) u.bind("images", Codec.map(c.images()));
      if (c.commit() != null) u.bind("commit", c.commit());
      if (c.workerId() != null) u.bind("w", c.workerId());
      if (u.execute() != 1) {
        Preview now = loadPreview(h, c.previewId()).orElseThrow(() -> new NotFoundException("preview", c.previewId()));
        if (now.status() != c.from()) {
          throw new StoreException("preview " + c.previewId() + " is " + now.status() + ", not " + c.from()
              + "; not moved to " + c.to());
        }
        throw new StoreException("preview " + c.previewId() + " is no longer held by worker " + c.workerId()
            + "; not moved to " + c.to());
      }
      if (redeploy) {
        h.createUpdate("DELETE FROM byop_preview_build WHERE preview_id = :id").bind("id", c.previewId()).execute();
      }
      Preview p = loadPreview(h, c.previewId()).orElseThrow();
      if (c.to() == PreviewStatus.RUNNING) {
        h.createUpdate("UPDATE byop_app SET current_preview_id = :pid, current_preview_url = :url, updated_at = :now"
            + " WHERE id = :app").bind("pid", p.id()).bind("url", p.url()).bind("now", ts(micros(c.now())))
            .bind("app", p.appId()).execute();
      } else if (c.to() == PreviewStatus.STOPPING || c.to() == PreviewStatus.STOPPED
          || c.to() == PreviewStatus.FAILED) {
        h.createUpdate("UPDATE byop_app SET current_preview_id = NULL, current_preview_url = NULL, updated_at = :now"
            + " WHERE id = :app AND current_preview_id = :pid").bind("pid", p.id()).bind("now", ts(micros(c.now())))
            .bind("app", p.appId()).execute();
      }
      return p;
    });
  }

  @Override
  public Optional<BuildJob> createPreviewBuildJob(String previewId, String workerId, String component,
      BuildConfig config, Instant now) {
    String json = Codec.buildConfig(config);
    return tx(h -> {
      // A conditional update, not a read: it takes the preview's row lock and sees the latest committed row, so a
      // redeploy or delete committed meanwhile refuses the job, and one that comes after waits and then forgets it.
      int held = h.createUpdate("UPDATE byop_preview SET lease_owner = lease_owner WHERE id = :p"
          + " AND status = 'BUILDING' AND lease_owner = :w").bind("p", previewId).bind("w", workerId).execute();
      if (held != 1) return Optional.<BuildJob>empty();
      boolean linked = h.createQuery("SELECT COUNT(*) FROM byop_preview_build WHERE preview_id = :p AND component = :c")
          .bind("p", previewId).bind("c", component).mapTo(Integer.class).one() > 0;
      if (linked) return Optional.<BuildJob>empty();
      String appId = h.createQuery("SELECT app_id FROM byop_preview WHERE id = :p").bind("p", previewId)
          .mapTo(String.class).one();
      BuildJob job = insertJob(h, appId, component, json, now);
      h.createUpdate("INSERT INTO byop_preview_build (preview_id, component, job_id) VALUES (:p, :c, :j)")
          .bind("p", previewId).bind("c", component).bind("j", job.id()).execute();
      return Optional.of(job);
    });
  }

  @Override
  public Map<String, String> previewBuildJobs(String previewId) {
    return read(h -> {
      Map<String, String> out = new java.util.LinkedHashMap<>();
      h.createQuery("SELECT component, job_id FROM byop_preview_build WHERE preview_id = :p ORDER BY component")
          .bind("p", previewId).map((rs, ctx) -> Map.entry(rs.getString(1), rs.getString(2)))
          .forEach(e -> out.put(e.getKey(), e.getValue()));
      return out;
    });
  }

  @Override
  public List<Preview> listExpiredPreviews(Instant now) {
    return read(h -> h.createQuery("SELECT " + PREVIEW_COLUMNS + " FROM byop_preview"
        + " WHERE status NOT IN ('STOPPING', 'STOPPED') AND expires_at IS NOT NULL AND expires_at < :now ORDER BY expires_at").bind("now", ts(micros(now)))
        .map(JdbiStore::mapPreview).list());
  }

  @Override
  public void saveHostLease(String previewId, String hostId, Instant now) {
    dev.byop.core.internal.Checks.notBlank("host id", hostId);
    tx(h -> {
      // delete then insert: one statement that both dialects accept for "insert or replace"
      h.createUpdate("DELETE FROM byop_host_lease WHERE preview_id = :p").bind("p", previewId).execute();
      h.createUpdate("INSERT INTO byop_host_lease (preview_id, host_id, acquired_at) VALUES (:p, :h, :t)")
          .bind("p", previewId).bind("h", hostId).bind("t", ts(micros(now))).execute();
      return null;
    });
  }

  @Override
  public void deleteHostLease(String previewId) {
    read(h -> h.createUpdate("DELETE FROM byop_host_lease WHERE preview_id = :p").bind("p", previewId).execute());
  }

  @Override
  public Map<String, String> hostLeases() {
    return read(h -> {
      Map<String, String> out = new java.util.LinkedHashMap<>();
      h.createQuery("SELECT preview_id, host_id FROM byop_host_lease ORDER BY acquired_at, preview_id")
          .map((rs, ctx) -> Map.entry(rs.getString(1), rs.getString(2))).forEach(e -> out.put(e.getKey(), e.getValue()));
      return out;
    });
  }

  @Override
  public void close() {
    if (closed) return;
    closed = true;
    try {
      resources.close();
    } catch (Exception e) {
      throw new StoreException("closing the store failed", e);
    }
  }
}
