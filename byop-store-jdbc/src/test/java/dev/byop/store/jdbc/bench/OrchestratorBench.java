package dev.byop.store.jdbc.bench;

import dev.byop.core.BuildConfig;
import dev.byop.core.BuildJob;
import dev.byop.core.BuildStatus;
import dev.byop.core.ByopConfig;
import dev.byop.core.ByopListener;
import dev.byop.core.internal.DefaultBuildOrchestrator;
import dev.byop.core.spi.ImageBuilder;
import dev.byop.core.spi.JobContext;
import dev.byop.core.spi.Store;
import dev.byop.store.jdbc.TestDatabases;
import dev.byop.store.jdbc.internal.JdbiStore;
import dev.byop.testing.Testbed;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Jobs per second through PENDING, FETCHING, BUILDING, SUCCESS with a no-op builder, and claim latency p50/p99, on H2
 * and on the test bed's PostgreSQL with 1 and 4 workers; beside it pgbench with a single-row UPDATE on the same
 * PostgreSQL as the reference limit, and the ratios.
 *
 * <p>Run: {@code ./mvnw -q -pl byop-store-jdbc -am test -Pbench-store -DskipTests} (optional {@code -Dbench.jobs=2000
 * -Dbench.seconds=10 -Dbench.dbs=h2,postgresql}).
 */
public final class OrchestratorBench {
  private OrchestratorBench() { }

  record Result(String db, int workers, int jobs, double jobsPerSecond, double claimP50Ms, double claimP99Ms,
      double statementsPerJob, String topStatements) {}

  /** Counts the statements the store sends (Jdbi's SqlLogger sees each one after it ran), by their first words. */
  static final class StatementCounter implements org.jdbi.v3.core.statement.SqlLogger {
    final java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.atomic.LongAdder> byKind =
        new java.util.concurrent.ConcurrentHashMap<>();
    final java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.atomic.LongAdder> micros =
        new java.util.concurrent.ConcurrentHashMap<>();

    @Override
    public void logAfterExecution(org.jdbi.v3.core.statement.StatementContext context) {
      String sql = context.getRenderedSql().strip().replaceAll("\\s+", " ");
      String[] w = sql.split(" ");
      String kind = String.join(" ", java.util.Arrays.copyOf(w, Math.min(w.length, 4)));
      byKind.computeIfAbsent(kind, k -> new java.util.concurrent.atomic.LongAdder()).increment();
      micros.computeIfAbsent(kind, k -> new java.util.concurrent.atomic.LongAdder())
          .add(context.getElapsedTime(java.time.temporal.ChronoUnit.MICROS));
    }

    long total() {
      return byKind.values().stream().mapToLong(java.util.concurrent.atomic.LongAdder::sum).sum();
    }

    String top(int jobs) {
      return byKind.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue().sum(), a.getValue().sum())).limit(8)
          .map(e -> String.format(Locale.ROOT, "%.2f x %s [%.3f ms each]", e.getValue().sum() / (double) jobs, e.getKey(),
              micros.get(e.getKey()).sum() / 1000.0 / e.getValue().sum()))
          .collect(java.util.stream.Collectors.joining("; "));
    }
  }

  public static void main(String[] args) throws Exception {
    int jobs = Integer.getInteger("bench.jobs", 2000);
    int seconds = Integer.getInteger("bench.seconds", 10);
    List<Result> results = new ArrayList<>();
    List<String> dbs = List.of(System.getProperty("bench.dbs", "h2,postgresql").split(","));
    for (String db : dbs) {
      for (int workers : List.of(1, 4)) {
        run(db, workers, Math.min(200, jobs)); // warm-up: JIT, pools, plans
        Result r = run(db, workers, jobs);
        results.add(r);
        System.out.printf(Locale.ROOT, "%-10s workers=%d jobs=%d  %8.1f jobs/s  claim p50 %6.2f ms  p99 %6.2f ms"
            + "  %.1f statements/job (%s)%n", r.db(), r.workers(), r.jobs(), r.jobsPerSecond(), r.claimP50Ms(),
            r.claimP99Ms(), r.statementsPerJob(), r.topStatements());
      }
    }
    if (!dbs.contains("postgresql")) return;
    Map<Integer, double[]> pgbench = Map.of(1, pgbench(1, seconds), 4, pgbench(4, seconds));
    System.out.println();
    System.out.println("reference: pgbench, single-row UPDATE script, -n -T " + seconds + " on the same PostgreSQL");
    for (int c : List.of(1, 4)) {
      System.out.printf(Locale.ROOT, "pgbench -c %d: %9.1f tps  latency avg %6.3f ms%n", c, pgbench.get(c)[0],
          pgbench.get(c)[1]);
    }
    System.out.println();
    System.out.println("ratios (a job is one claim, three status changes and two or three log batches):");
    for (Result r : results) {
      double[] ref = pgbench.get(r.workers());
      System.out.printf(Locale.ROOT,
          "%-10s workers=%d: jobs/s / pgbench tps (-c %d) = %.4f   (%.1f pgbench transactions per job);"
              + " claim p50 / pgbench latency = %.2f%n",
          r.db(), r.workers(), r.workers(), r.jobsPerSecond() / ref[0], ref[0] / r.jobsPerSecond(),
          r.claimP50Ms() / ref[1]);
    }
    System.out.println();
    for (Result r : results) {
      if (r.db().equals("postgresql")) {
        System.out.printf(Locale.ROOT, "BENCH store jobs-per-pgbench-tps-%dworker%s ratio=%.4f%n", r.workers(),
            r.workers() == 1 ? "" : "s", r.jobsPerSecond() / pgbench.get(r.workers())[0]);
      }
    }
  }

  /** The no-op builder: every status is passed through, nothing is built. */
  static final class NoopBuilder implements ImageBuilder {
    @Override
    public BuilderCapabilities capabilities() {
      return new BuilderCapabilities("noop", null, List.of(), false, Map.of());
    }

    @Override
    public SourceCheckout fetchSource(FetchRequest request, JobContext context) {
      return new SourceCheckout(Path.of("/"), Path.of("/"), "0123456789abcdef0123456789abcdef01234567");
    }

    @Override
    public BuildResult build(BuildRequest request, JobContext context) {
      return new BuildResult(request.image(), "sha256:" + "a".repeat(64), Optional.empty());
    }

    @Override
    public void close() { }
  }

  static Result run(String dbName, int workers, int jobs) throws Exception {
    TestDatabases.Db db = dbName.equals("h2") ? TestDatabases.h2() : TestDatabases.postgres();
    Store raw = db.open(workers + 6);
    ConcurrentLinkedQueue<Long> claimNanos = new ConcurrentLinkedQueue<>();
    // Times the claims that found a job (an idle poll is not a claim).
    Store timed = (Store) Proxy.newProxyInstance(Store.class.getClassLoader(), new Class<?>[] {Store.class},
        (proxy, m, a) -> {
          long t0 = System.nanoTime();
          try {
            Object out = m.invoke(raw, a);
            if (m.getName().equals("claimBuildJob") && ((Optional<?>) out).isPresent()) {
              claimNanos.add(System.nanoTime() - t0);
            }
            return out;
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
    int apps = 16;
    for (int a = 0; a < apps; a++) {
      raw.saveApp(new dev.byop.core.App("app" + a, "app" + a, List.of(dev.byop.core.Component.of("web",
          dev.byop.core.GitSource.of("https://git.example/app.git"), 8080))));
    }
    StatementCounter statements = new StatementCounter();
    Instant now = Instant.now();
    for (int i = 0; i < jobs; i++) raw.createBuildJob("app" + (i % apps), "web", BuildConfig.defaults(), now);
    AtomicInteger done = new AtomicInteger();
    ByopListener counter = new ByopListener() {
      @Override
      public void buildStatusChanged(BuildJob job, BuildStatus from) {
        if (job.status() == BuildStatus.SUCCESS) done.incrementAndGet();
      }
    };
    var tuning = new ByopConfig.Orchestrator(workers, Duration.ofSeconds(30), 3, Duration.ofMinutes(5),
        Duration.ofMillis(5));
    ((JdbiStore) raw).jdbi().setSqlLogger(statements); // counted from here: the jobs' way through their statuses
    long t0 = System.nanoTime();
    var o = new DefaultBuildOrchestrator(timed, new NoopBuilder(), null,
        new DefaultBuildOrchestrator.Options(tuning, null, null, "bench", Duration.ofMillis(50)), counter,
        Clock.systemUTC());
    long deadline = t0 + TimeUnit.MINUTES.toNanos(10);
    while (done.get() < jobs && System.nanoTime() < deadline) Thread.sleep(2);
    double elapsed = (System.nanoTime() - t0) / 1e9;
    o.close();
    ((JdbiStore) raw).jdbi().setSqlLogger(org.jdbi.v3.core.statement.SqlLogger.NOP_SQL_LOGGER);
    if (db.schema() != null) {
      ((JdbiStore) raw).jdbi().useHandle(h -> h.execute("DROP SCHEMA " + db.schema() + " CASCADE"));
    }
    raw.close();
    long[] sorted = claimNanos.stream().mapToLong(Long::longValue).sorted().toArray();
    return new Result(dbName, workers, jobs, done.get() / elapsed, pct(sorted, 0.50), pct(sorted, 0.99),
        statements.total() / (double) Math.max(1, done.get()), statements.top(Math.max(1, done.get())));
  }

  static double pct(long[] sorted, double p) {
    if (sorted.length == 0) return Double.NaN;
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)] / 1e6;
  }

  /** Runs pgbench with a one-row UPDATE; returns {tps, average latency ms}. */
  static double[] pgbench(int clients, int seconds) throws Exception {
    TestDatabases.Db db = TestDatabases.postgres();
    Store s = db.open(2); // creates the schema
    JdbiStore store = (JdbiStore) s;
    String table = db.schema() + ".bench_row";
    store.jdbi().useHandle(h -> {
      h.execute("CREATE TABLE " + table + " (id INTEGER PRIMARY KEY, n BIGINT NOT NULL)");
      h.execute("INSERT INTO " + table + " VALUES (1, 0)");
    });
    Path script = Files.createTempFile("byop-pgbench", ".sql");
    Files.writeString(script, "UPDATE " + table + " SET n = n + 1 WHERE id = 1;\n");
    Testbed bed = Testbed.get();
    Testbed.Postgres pg = bed.postgres();
    ProcessBuilder pb = new ProcessBuilder(List.of(bed.pgbench().toString(), "-n", "-f", script.toString(), "-T",
        String.valueOf(seconds), "-c", String.valueOf(clients), "-j", String.valueOf(clients), "-h", pg.host(), "-p",
        String.valueOf(pg.port()), "-U", pg.user(), pg.database()));
    pb.environment().put("PGPASSWORD", db.password().reveal());
    pb.redirectErrorStream(true);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) throw new IllegalStateException("pgbench failed:\n" + out);
    store.jdbi().useHandle(h -> h.execute("DROP SCHEMA " + db.schema() + " CASCADE"));
    s.close();
    Files.delete(script);
    return new double[] {number(out, "tps = ([0-9.]+)"), number(out, "latency average = ([0-9.]+) ms")};
  }

  static double number(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    if (!m.find()) throw new IllegalStateException("no '" + regex + "' in pgbench output:\n" + text);
    return Double.parseDouble(m.group(1));
  }


}
