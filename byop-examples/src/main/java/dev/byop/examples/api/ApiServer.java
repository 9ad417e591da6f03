package dev.byop.examples.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.byop.core.App;
import dev.byop.core.BuildJob;
import dev.byop.core.BuildOrchestrator;
import dev.byop.core.BuildStatus;
import dev.byop.core.ByopException;
import dev.byop.core.GitSource;
import dev.byop.core.IllegalTransitionException;
import dev.byop.core.LogLine;
import dev.byop.core.NotFoundException;
import dev.byop.core.Preview;
import dev.byop.core.PreviewLimitException;
import dev.byop.core.PreviewManager;
import dev.byop.core.ProviderException;
import dev.byop.core.ValidationException;
import dev.byop.core.spi.AppStore;
import dev.byop.examples.api.JsonViews.AppRequest;
import dev.byop.examples.api.JsonViews.BuildRequest;
import dev.byop.examples.api.JsonViews.PreviewRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An HTTP API over byop like the seed's API handler, on the JDK's {@code com.sun.net.httpserver} with Jackson for
 * JSON. It uses only byop's public API. It deliberately picks no web framework: a host application mounts the same
 * calls in its own stack, and this class shows which call each endpoint makes and how byop's exceptions map to
 * status codes.
 *
 * <pre>
 * POST   /apps                        create an app                      201 + Location
 * GET    /apps                        list apps
 * GET    /apps/{id}                   one app with its current image and preview
 * POST   /apps/{id}/build             request a build                    202 + Location: /builds/{jobId}
 * GET    /apps/{id}/builds            the app's builds, newest first
 * GET    /apps/{id}/preview           the app's current preview
 * GET    /builds/{id}                 a build job
 * GET    /builds/{id}/logs            stored log lines (?after=seq&amp;limit=n)
 * GET    /builds/{id}/logs/stream     live log lines as Server-Sent Events (id = seq, honours Last-Event-ID)
 * POST   /builds/{id}/cancel          cancel a build
 * POST   /previews                    {"appId": …} create a preview     202 + Location: /previews/{id}
 * GET    /previews/{id}               a preview
 * GET    /previews/{id}/logs[/stream] its build and deploy log
 * DELETE /previews/{id}               tear it down
 * </pre>
 *
 * <pre>{@code
 * ApiToken token = ApiToken.loadOrCreate(dataDir);   // print token.value() once, when token.created()
 * try (Byop byop = Byop.builder().config(config).discover(loader).build();
 *      ApiServer api = ApiServer.builder()
 *          .apps(byop.store()).gitPolicy(byop.config().gitPolicy())
 *          .builds(byop.orchestrator()).previews(byop.previews())
 *          .masking(byop::masked)
 *          .token(token)
 *          .address(new InetSocketAddress("127.0.0.1", 8080))
 *          .start()) {
 *   ...
 * }
 * }</pre>
 *
 * <p>Safe by default, in this order, before any endpoint runs:
 * <ul>
 *   <li>the {@code Host} header must name the bound address ({@code 127.0.0.1:PORT}, {@code localhost:PORT},
 *       {@code [::1]:PORT}, or a name given to {@link Builder#allowedHosts}), else 421: a web page the operator opens
 *       cannot reach the API by rebinding its own DNS name to 127.0.0.1;
 *   <li>{@code Authorization: Bearer <token>} must carry the token (compared in constant time), else 401 with
 *       {@code WWW-Authenticate: Bearer}; only {@link Builder#unauthenticated()}, for a host that puts its own
 *       authentication in front, turns this off;
 *   <li>a request with a body (or any {@code Content-Type}) must be {@code application/json}, else 415: an HTML form
 *       can send {@code application/x-www-form-urlencoded}, {@code multipart/form-data} and {@code text/plain}
 *       across sites without a CORS preflight, so those never reach an endpoint.
 * </ul>
 *
 * <p>Slow clients. The JDK server reads a request's line, headers and body on a worker thread, so a client sending a
 * byte a second (slowloris) holds a worker; a few dozen of them would hold the whole pool. Its one defence is the
 * system property {@value #MAX_REQ_TIME} (seconds; off by default): a request not read whole within it is cut. This
 * class sets it to {@value #DEFAULT_MAX_REQ_TIME} s when the host has not set it (the JDK reads it once, when the first
 * {@code HttpServer} of the process starts: a host creating another one earlier sets it itself, e.g. on the command
 * line). Bodies are further capped at {@link Builder#maxBodyBytes}. {@code sun.net.httpserver.maxRspTime} is left
 * off on purpose: it would cut every Server-Sent Events log stream after that time, while the request time limit
 * ends once the (body-less) request is read, so streams run as long as their log does; a stream holds one worker,
 * and {@link Builder#maxStreams} keeps them below the pool size. {@code jdk.httpserver.maxConnections} is left off
 * too: a cap on connections is exactly what slow clients would fill, locking everyone out until the time limit.
 *
 * <p>Errors are {@code {"error": …, "code": …, "field": …}}: 400 for bad input and bad JSON, 401, 404 for unknown ids
 * or paths, 405, 409 for a status change the state machine refuses and for a preview over the app's
 * {@code preview.maxPerApp}, 413 for a body over {@link Builder#maxBodyBytes}, 415, 421, 503 when byop has no
 * provider for the request, and 500 with an incident id (never a stack trace) otherwise.
 */
public final class ApiServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);
  private static final String JSON = "application/json; charset=utf-8";
  /** The JDK server's limit, in seconds, on reading one request whole; see the class comment. */
  static final String MAX_REQ_TIME = "sun.net.httpserver.maxReqTime";
  static final String DEFAULT_MAX_REQ_TIME = "10";

  static {
    if (System.getProperty(MAX_REQ_TIME) == null) System.setProperty(MAX_REQ_TIME, DEFAULT_MAX_REQ_TIME);
  }

  private final AppStore apps;
  private final GitSource.Policy gitPolicy;
  private final @Nullable BuildOrchestrator builds;
  private final @Nullable PreviewManager previews;
  private final int maxBodyBytes;
  private final int maxStreams;
  private final Duration heartbeat;
  /** What every exception the server logs passes through first (the host's secrets masked), e.g. {@code byop::masked}. */
  private final java.util.function.UnaryOperator<Throwable> masking;
  private final byte @Nullable [] tokenDigest;
  private final Set<String> allowedHosts;
  private final ObjectMapper mapper = new ObjectMapper()
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  private final HttpServer server;
  private final ExecutorService executor;
  private final AtomicInteger streams = new AtomicInteger();
  private volatile boolean stopping;

  private ApiServer(Builder b) throws IOException {
    this.apps = Objects.requireNonNull(b.apps, "apps");
    this.gitPolicy = b.gitPolicy;
    this.builds = b.builds;
    this.previews = b.previews;
    this.maxBodyBytes = b.maxBodyBytes;
    this.maxStreams = b.maxStreams;
    this.heartbeat = b.heartbeat;
    this.masking = b.masking;
    if (b.token == null && !b.unauthenticated) {
      throw new IllegalStateException("the API needs a token (ApiServer.builder().token(ApiToken.loadOrCreate(dataDir)))"
          + " unless the host authenticates requests itself (unauthenticated())");
    }
    this.tokenDigest = b.token == null ? null : sha256(b.token);
    AtomicInteger n = new AtomicInteger();
    // A fixed pool: each live log stream holds one thread, so streams are capped below the pool size (maxStreams)
    // and ordinary requests always find a thread.
    this.executor = Executors.newFixedThreadPool(b.maxStreams + 8, r -> {
      Thread t = new Thread(r, "byop-api-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    this.server = HttpServer.create(b.address, 0);
    this.allowedHosts = allowedHosts(server.getAddress(), b.allowedHosts);
    server.createContext("/", this::handle);
    server.setExecutor(executor);
    server.start();
  }

  /** The request time limit in effect (see the class comment), or null when the host turned it off. */
  public static @Nullable Duration requestTimeLimit() {
    long s = Long.getLong(MAX_REQ_TIME, -1);
    return s > 0 ? Duration.ofSeconds(s) : null;
  }

  /** Starts configuring a server. */
  public static Builder builder() {
    return new Builder();
  }

  /** The base URI, e.g. {@code http://127.0.0.1:8080}. */
  public URI uri() {
    InetSocketAddress a = server.getAddress();
    return URI.create("http://" + a.getAddress().getHostAddress() + ":" + a.getPort());
  }

  /** Stops accepting requests, ends live streams and stops the threads; safe to call twice. */
  @Override
  public void close() {
    if (stopping) return;
    stopping = true;
    server.stop(0);
    executor.shutdown();
    try {
      if (!executor.awaitTermination(5, TimeUnit.SECONDS)) executor.shutdownNow();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      executor.shutdownNow();
    }
  }

  // ---------------------------------------------------------------------------------------------------------- routing

  private void handle(HttpExchange ex) {
    try {
      checkHost(ex);
      checkToken(ex);
      checkContentType(ex);
      route(ex);
    } catch (ApiError e) {
      sendError(ex, e.status, e.getMessage(), e.field);
    } catch (ValidationException e) {
      sendError(ex, 400, e.getMessage(), e.field());
    } catch (NotFoundException e) {
      sendError(ex, 404, e.getMessage(), null);
    } catch (IllegalTransitionException e) {
      sendError(ex, 409, e.getMessage(), null);
    } catch (ProviderException e) {
      // The rejection list names server internals (paths, sockets); the log has it, the client gets the gist.
      String incident = incident();
      LOG.warn("incident {}: {} {}: {}", incident, ex.getRequestMethod(), ex.getRequestURI().getRawPath(),
          masking.apply(e).getMessage());
      sendError(ex, 503, "this server has no " + e.kind() + " provider available (incident " + incident + ")", null);
    } catch (Exception e) {
      String incident = incident();
      LOG.error("incident {}: {} {} failed", incident, ex.getRequestMethod(), ex.getRequestURI().getRawPath(),
          masking.apply(e));
      sendError(ex, 500, "internal error (incident " + incident + ")", null);
    } finally {
      ex.close();
    }
  }

  private void checkHost(HttpExchange ex) {
    List<String> hosts = ex.getRequestHeaders().get("Host");
    String host = hosts == null || hosts.size() != 1 ? null : hosts.get(0).trim().toLowerCase(Locale.ROOT);
    if (host == null || !allowedHosts.contains(host)) {
      throw new ApiError(421, (host == null ? "a request needs exactly one Host header"
          : "Host '" + printable(host) + "' is not this server's address") + "; the API answers only requests for "
          + String.join(", ", allowedHosts) + " (a request for another name may be a DNS rebinding attack; a host "
          + "name of your own goes in allowedHosts)", "Host");
    }
  }

  private void checkToken(HttpExchange ex) {
    if (tokenDigest == null) return;
    String h = ex.getRequestHeaders().getFirst("Authorization");
    String presented = h != null && h.length() > 7 && h.regionMatches(true, 0, "Bearer ", 0, 7)
        ? h.substring(7).trim() : null;
    // Digests of equal length compared by MessageDigest.isEqual: the time taken says nothing about the token.
    if (presented == null || presented.isEmpty() || !MessageDigest.isEqual(sha256(presented), tokenDigest)) {
      boolean none = presented == null || presented.isEmpty();
      ex.getResponseHeaders().set("WWW-Authenticate",
          none ? "Bearer realm=\"byop\"" : "Bearer realm=\"byop\", error=\"invalid_token\"");
      throw new ApiError(401, none ? "this API needs the header Authorization: Bearer <token> (the token is in "
          + "api/token of the server's data directory)" : "the bearer token is not valid", "Authorization");
    }
  }

  /** A body (or a declared type) must be JSON, checked before routing so no endpoint acts on a form post. */
  private void checkContentType(HttpExchange ex) {
    String ct = ex.getRequestHeaders().getFirst("Content-Type");
    if (ct == null && !hasBody(ex)) return;
    String media = ct == null ? "" : ct.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
    if (!media.equals("application/json")) {
      throw new ApiError(415, ct == null ? "a request body needs Content-Type: application/json"
          : "the body must be application/json, got '" + printable(ct) + "'", "Content-Type");
    }
  }

  private void route(HttpExchange ex) throws IOException {
    List<String> p = segments(ex.getRequestURI().getRawPath());
    String m = ex.getRequestMethod().toUpperCase(Locale.ROOT);
    int n = p.size();
    String top = n == 0 ? "" : p.get(0);
    switch (top) {
      case "apps" -> {
        if (n == 1) {
          if (m.equals("GET")) listApps(ex);
          else if (m.equals("POST")) createApp(ex);
          else throw methodNotAllowed(ex, "GET, POST");
        } else if (n == 2) {
          if (m.equals("GET")) getApp(ex, p.get(1));
          else throw methodNotAllowed(ex, "GET");
        } else if (n == 3 && p.get(2).equals("build")) {
          if (m.equals("POST")) requestBuild(ex, p.get(1));
          else throw methodNotAllowed(ex, "POST");
        } else if (n == 3 && p.get(2).equals("builds")) {
          if (m.equals("GET")) listBuilds(ex, p.get(1));
          else throw methodNotAllowed(ex, "GET");
        } else if (n == 3 && p.get(2).equals("preview")) {
          if (m.equals("GET")) currentPreview(ex, p.get(1));
          else throw methodNotAllowed(ex, "GET");
        } else {
          throw notFound(ex);
        }
      }
      case "builds" -> {
        if (n == 2) {
          if (m.equals("GET")) send(ex, 200, JsonViews.job(builds().job(p.get(1))));
          else throw methodNotAllowed(ex, "GET");
        } else if (n == 3 && p.get(2).equals("cancel")) {
          if (m.equals("POST")) cancelBuild(ex, p.get(1));
          else throw methodNotAllowed(ex, "POST");
        } else if (n < 3 || !logRoutes(ex, m, p, buildLogs(p.get(1)))) {
          throw notFound(ex);
        }
      }
      case "previews" -> {
        if (n == 1) {
          if (m.equals("POST")) createPreview(ex);
          else throw methodNotAllowed(ex, "POST");
        } else if (n == 2) {
          if (m.equals("GET")) send(ex, 200, JsonViews.preview(previews().preview(p.get(1))));
          else if (m.equals("DELETE")) {
            // 202 while the tear-down goes on (STOPPING, e.g. held by another instance): asking again resumes it
            Preview deleted = previews().deletePreview(p.get(1));
            send(ex, deleted.status() == dev.byop.core.PreviewStatus.STOPPED ? 200 : 202, JsonViews.preview(deleted));
          }
          else throw methodNotAllowed(ex, "GET, DELETE");
        } else if (n < 3 || !logRoutes(ex, m, p, previewLogs(p.get(1)))) {
          throw notFound(ex);
        }
      }
      default -> throw notFound(ex);
    }
  }

  // -------------------------------------------------------------------------------------------------------- endpoints

  private void listApps(HttpExchange ex) throws IOException {
    List<Object> out = new ArrayList<>();
    for (App a : apps.listApps()) out.add(JsonViews.app(a, apps.appState(a.id()).orElse(null)));
    send(ex, 200, Map.of("apps", out));
  }

  private void createApp(HttpExchange ex) throws IOException {
    AppRequest req = readBody(ex, AppRequest.class);
    App app = req.toApp();
    checkSources(app);
    // saveApp replaces; creating over an existing id would silently change another client's app.
    if (apps.findApp(app.id()).isPresent()) throw new ApiError(409, "app '" + app.id() + "' already exists", "id");
    App saved = apps.saveApp(app);
    ex.getResponseHeaders().set("Location", "/apps/" + saved.id());
    send(ex, 201, JsonViews.app(saved, apps.appState(saved.id()).orElse(null)));
  }

  private void checkSources(App app) {
    for (var c : app.components()) {
      try {
        gitPolicy.check(c.source());
      } catch (ValidationException e) {
        throw new ApiError(400, "component '" + c.name() + "': " + e.getMessage(), e.field());
      }
    }
  }

  private void getApp(HttpExchange ex, String id) throws IOException {
    App app = apps.findApp(id).orElseThrow(() -> new NotFoundException("app", id));
    send(ex, 200, JsonViews.app(app, apps.appState(id).orElse(null)));
  }

  private void requestBuild(HttpExchange ex, String appId) throws IOException {
    BuildOrchestrator o = builds();
    // An app stored by someone else (the main job's file:// sample, say) may name a transport this server does not
    // allow: say so now rather than accept a job that can only fail.
    checkSources(apps.findApp(appId).orElseThrow(() -> new NotFoundException("app", appId)));
    BuildRequest req = hasBody(ex) ? readBody(ex, BuildRequest.class)
        : new BuildRequest(null, null, null, null, null, null, null, null, null);
    BuildJob job = o.requestBuild(appId, req.toConfig());
    ex.getResponseHeaders().set("Location", "/builds/" + job.id());
    send(ex, 202, JsonViews.job(job));
  }

  private void cancelBuild(HttpExchange ex, String jobId) throws IOException {
    BuildOrchestrator o = builds();
    // byop answers a cancel of a finished job with the job unchanged; over HTTP that is a conflict worth saying.
    BuildJob before = o.job(jobId);
    if (before.status().isTerminal()) {
      throw new ApiError(409, "build job '" + jobId + "' already ended " + before.status(), null);
    }
    BuildJob after = o.cancel(jobId);
    send(ex, after.status() == BuildStatus.CANCELLED ? 200 : 409, JsonViews.job(after));
  }

  private void listBuilds(HttpExchange ex, String appId) throws IOException {
    BuildOrchestrator o = builds();
    apps.findApp(appId).orElseThrow(() -> new NotFoundException("app", appId));
    int limit = (int) Math.min(queryLong(ex, "limit", 50), 500);
    List<Object> out = new ArrayList<>();
    for (BuildJob j : o.jobs(appId, limit)) out.add(JsonViews.job(j));
    send(ex, 200, Map.of("builds", out));
  }

  private void currentPreview(HttpExchange ex, String appId) throws IOException {
    PreviewManager pm = previews();
    apps.findApp(appId).orElseThrow(() -> new NotFoundException("app", appId));
    Preview p = pm.currentPreview(appId)
        .orElseThrow(() -> new ApiError(404, "app '" + appId + "' has no preview", null));
    send(ex, 200, JsonViews.preview(p));
  }

  private void createPreview(HttpExchange ex) throws IOException {
    PreviewManager pm = previews();
    PreviewRequest req = readBody(ex, PreviewRequest.class);
    if (req.appId() == null || req.appId().isBlank()) throw new ApiError(400, "appId is required", "appId");
    checkSources(apps.findApp(req.appId()).orElseThrow(() -> new NotFoundException("app", req.appId())));
    Preview p;
    try {
      p = pm.createPreview(req.appId(), req.commit());
    } catch (PreviewLimitException e) {
      throw new ApiError(409, e.getMessage() + "; delete one (DELETE /previews/{id}) to make room", "appId");
    }
    ex.getResponseHeaders().set("Location", "/previews/" + p.id());
    // The seed answers 200 with the pending preview; 202 says the same thing more precisely.
    send(ex, 202, JsonViews.preview(p));
  }

  private BuildOrchestrator builds() {
    if (builds == null) throw new ApiError(503, "builds are not available on this server", null);
    return builds;
  }

  private PreviewManager previews() {
    if (previews == null) throw new ApiError(503, "previews are not available on this server", null);
    return previews;
  }

  // ------------------------------------------------------------------------------------------------ server-sent events

  /** Where a live log comes from: a build job or a preview. */
  private interface LogSource {
    AutoCloseable follow(long after, java.util.function.Consumer<LogLine> consumer);

    List<LogLine> read(long after, int limit);

    /** The final status once the owner is done, else null. */
    @Nullable String finished();
  }

  /** A build job's log; 404 at once for an unknown job rather than an empty log. */
  private LogSource buildLogs(String id) {
    BuildOrchestrator o = builds();
    o.job(id);
    return new LogSource() {
      @Override public AutoCloseable follow(long after, java.util.function.Consumer<LogLine> c) {
        return o.followLogs(id, after, c);
      }
      @Override public List<LogLine> read(long after, int limit) { return o.logs(id, after, limit); }
      @Override public @Nullable String finished() {
        BuildJob j = o.job(id);
        return j.status().isTerminal() ? j.status().name() : null;
      }
    };
  }

  /** A preview's log; 404 at once for an unknown preview. */
  private LogSource previewLogs(String id) {
    PreviewManager pm = previews();
    pm.preview(id);
    return new LogSource() {
      @Override public AutoCloseable follow(long after, java.util.function.Consumer<LogLine> c) {
        return pm.followLogs(id, after, c);
      }
      @Override public List<LogLine> read(long after, int limit) { return pm.logs(id, after, limit); }
      @Override public @Nullable String finished() {
        Preview pv = pm.preview(id);
        return pv.status().isClaimable() ? null : pv.status().name(); // a tear-down's lines come too
      }
    };
  }

  /** {@code …/{id}/logs} (JSON) and {@code …/{id}/logs/stream} (SSE) of builds and previews; false for other paths. */
  private boolean logRoutes(HttpExchange ex, String m, List<String> p, LogSource source) throws IOException {
    int n = p.size();
    if (n == 3 && p.get(2).equals("logs")) {
      if (!m.equals("GET")) throw methodNotAllowed(ex, "GET");
      long after = queryLong(ex, "after", 0);
      int limit = (int) Math.min(queryLong(ex, "limit", 1000), 10_000);
      send(ex, 200, JsonViews.logs(source.read(after, limit), after));
      return true;
    }
    if (n == 4 && p.get(2).equals("logs") && p.get(3).equals("stream")) {
      if (!m.equals("GET")) throw methodNotAllowed(ex, "GET");
      stream(ex, source);
      return true;
    }
    return false;
  }

  /**
   * Streams a log as Server-Sent Events. Lines from {@code followLogs} are queued by byop's thread and written by this
   * request's thread, so a slow client never blocks byop. When the owner is done, whatever the queue has not carried
   * yet is read back from the store by sequence number, so the stream ends complete, with an {@code end} event.
   */
  @SuppressWarnings("try") // the follow handle is only closed, which is the point of holding it
  private void stream(HttpExchange ex, LogSource source) throws IOException {
    if (streams.incrementAndGet() > maxStreams) {
      streams.decrementAndGet();
      throw new ApiError(503, "too many live log streams; try again later or read /logs", null);
    }
    try {
      long after = lastEventId(ex);
      var queue = new java.util.concurrent.LinkedBlockingQueue<LogLine>();
      ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
      ex.getResponseHeaders().set("Cache-Control", "no-cache");
      ex.sendResponseHeaders(200, 0);
      OutputStream out = ex.getResponseBody();
      long last = after;
      long nextBeat = System.nanoTime() + heartbeat.toNanos();
      out.write(("retry: 2000\n\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      try (AutoCloseable follow = source.follow(after, queue::add)) {
        String end = null;
        while (end == null && !stopping) {
          LogLine l = queue.poll(250, TimeUnit.MILLISECONDS);
          if (l != null) {
            last = writeEvent(out, l, last);
            continue;
          }
          if (System.nanoTime() - nextBeat > 0) {
            // A comment line: keeps proxies from timing out and finds clients that went away.
            out.write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            nextBeat = System.nanoTime() + heartbeat.toNanos();
          }
          end = source.finished();
        }
        if (end == null) return; // server stopping: the client reconnects with Last-Event-ID
        for (LogLine l; (l = queue.poll()) != null; ) last = writeEvent(out, l, last);
        for (List<LogLine> more = source.read(last, 1000); !more.isEmpty(); more = source.read(last, 1000)) {
          for (LogLine l : more) last = writeEvent(out, l, last);
        }
        out.write(("event: end\ndata: " + mapper.writeValueAsString(Map.of("status", end, "lastSeq", last))
            + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (IOException e) {
        LOG.debug("log stream client went away: {}", masking.apply(e).toString());
      } catch (Exception e) {
        LOG.warn("log stream failed", masking.apply(e));
      }
    } finally {
      streams.decrementAndGet();
    }
  }

  private static long writeEvent(OutputStream out, LogLine l, long last) throws IOException {
    if (l.seq() <= last) return last; // already sent (store read-back overlapping the live queue)
    StringBuilder b = new StringBuilder().append("id: ").append(l.seq()).append('\n');
    // One data: field per line: a log line holding CR or LF must not end the event early.
    for (String part : l.text().split("\r\n|\r|\n", -1)) b.append("data: ").append(part).append('\n');
    b.append('\n');
    out.write(b.toString().getBytes(StandardCharsets.UTF_8));
    out.flush();
    return l.seq();
  }

  private long lastEventId(HttpExchange ex) {
    String h = ex.getRequestHeaders().getFirst("Last-Event-ID");
    if (h != null && !h.isBlank()) {
      try {
        long v = Long.parseLong(h.trim());
        if (v < 0) throw new NumberFormatException();
        return v;
      } catch (NumberFormatException e) {
        throw new ApiError(400, "Last-Event-ID must be a log sequence number, got '" + printable(h) + "'",
            "Last-Event-ID");
      }
    }
    return queryLong(ex, "after", 0);
  }

  // ----------------------------------------------------------------------------------------------------------- bodies

  private boolean hasBody(HttpExchange ex) {
    String len = ex.getRequestHeaders().getFirst("Content-Length");
    return (len != null && !len.trim().equals("0")) || ex.getRequestHeaders().containsKey("Transfer-Encoding");
  }

  private <T> T readBody(HttpExchange ex, Class<T> type) throws IOException {
    String len = ex.getRequestHeaders().getFirst("Content-Length");
    if (len != null) {
      try {
        if (Long.parseLong(len.trim()) > maxBodyBytes) {
          throw new ApiError(413, "the body is larger than " + maxBodyBytes + " bytes", null);
        }
      } catch (NumberFormatException e) {
        throw new ApiError(400, "bad Content-Length", null);
      }
    }
    byte[] body = readLimited(ex.getRequestBody());
    if (body.length == 0) throw new ApiError(400, "a JSON body is required", null);
    try {
      T value = mapper.readValue(body, type);
      if (value == null) throw new ApiError(400, "a JSON object is required", null);
      return value;
    } catch (ValueInstantiationException e) {
      // A byop value type refused the input in its constructor: report its own message and field.
      if (e.getCause() instanceof ValidationException v) throw v;
      throw new ApiError(400, "invalid JSON: " + e.getOriginalMessage(), path(e));
    } catch (JsonMappingException e) {
      if (e.getCause() instanceof ValidationException v) throw v;
      throw new ApiError(400, "invalid JSON: " + firstLine(e.getOriginalMessage()), path(e));
    } catch (JsonProcessingException e) {
      throw new ApiError(400, "invalid JSON: " + firstLine(e.getOriginalMessage()), null);
    }
  }

  private byte[] readLimited(InputStream in) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    byte[] chunk = new byte[8192];
    for (int r; (r = in.read(chunk)) != -1; ) {
      buf.write(chunk, 0, r);
      if (buf.size() > maxBodyBytes) throw new ApiError(413, "the body is larger than " + maxBodyBytes + " bytes", null);
    }
    return buf.toByteArray();
  }

  private static @Nullable String path(JsonMappingException e) {
    StringBuilder b = new StringBuilder();
    for (JsonMappingException.Reference r : e.getPath()) {
      if (r.getFieldName() != null) {
        if (b.length() > 0) b.append('.');
        b.append(r.getFieldName());
      } else if (r.getIndex() >= 0) {
        b.append('[').append(r.getIndex()).append(']');
      }
    }
    return b.length() == 0 ? null : b.toString();
  }

  private static String firstLine(@Nullable String s) {
    if (s == null) return "";
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  private void send(HttpExchange ex, int status, Object body) throws IOException {
    byte[] bytes = mapper.writeValueAsBytes(body);
    ex.getResponseHeaders().set("Content-Type", JSON);
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  private void sendError(HttpExchange ex, int status, String message, @Nullable String field) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", message);
    body.put("code", code(status));
    body.put("field", field);
    try {
      // The JDK server drains an unread request body itself when the exchange is closed.
      send(ex, status, body);
    } catch (IOException | RuntimeException e) {
      LOG.debug("could not send error response {}: {}", status, e.toString());
    }
  }

  // ------------------------------------------------------------------------------------------------------------- misc

  private static List<String> segments(String rawPath) {
    List<String> out = new ArrayList<>();
    for (String s : rawPath.split("/")) {
      if (!s.isEmpty()) out.add(URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8));
    }
    return out;
  }

  private static long queryLong(HttpExchange ex, String name, long defaultValue) {
    String q = ex.getRequestURI().getRawQuery();
    if (q == null) return defaultValue;
    for (String kv : q.split("&")) {
      int eq = kv.indexOf('=');
      String k = URLDecoder.decode(eq < 0 ? kv : kv.substring(0, eq), StandardCharsets.UTF_8);
      if (!k.equals(name)) continue;
      String v = eq < 0 ? "" : URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8);
      try {
        long n = Long.parseLong(v);
        if (n < 0) throw new NumberFormatException();
        return n;
      } catch (NumberFormatException e) {
        throw new ApiError(400, "query parameter '" + name + "' must be a whole number >= 0, got '" + printable(v) + "'",
            name);
      }
    }
    return defaultValue;
  }

  private static String printable(String s) {
    String t = s.length() > 80 ? s.substring(0, 80) + "…" : s;
    return t.replaceAll("\\p{Cntrl}", "?");
  }

  private static ApiError notFound(HttpExchange ex) {
    return new ApiError(404, "no such endpoint: " + ex.getRequestMethod() + " " + printable(ex.getRequestURI().getRawPath()),
        null);
  }

  private static ApiError methodNotAllowed(HttpExchange ex, String allow) {
    ex.getResponseHeaders().set("Allow", allow);
    return new ApiError(405, "method " + printable(ex.getRequestMethod()) + " not allowed here; allowed: " + allow, null);
  }

  /** A stable word for each status, so clients can branch without parsing messages. */
  private static String code(int status) {
    return switch (status) {
      case 400 -> "bad_request";
      case 401 -> "unauthorized";
      case 404 -> "not_found";
      case 405 -> "method_not_allowed";
      case 409 -> "conflict";
      case 413 -> "too_large";
      case 415 -> "unsupported_media_type";
      case 421 -> "wrong_host";
      case 503 -> "unavailable";
      default -> status >= 500 ? "internal" : "error";
    };
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always present", e);
    }
  }

  /** host:port forms a client may send for the bound address, lower-case. */
  private static Set<String> allowedHosts(InetSocketAddress bound, List<String> extra) {
    int port = bound.getPort();
    Set<String> names = new LinkedHashSet<>(List.of("127.0.0.1", "localhost", "[::1]"));
    String literal = bound.getAddress().getHostAddress();
    if (!bound.getAddress().isAnyLocalAddress()) names.add(literal.contains(":") ? "[" + literal + "]" : literal);
    Set<String> out = new LinkedHashSet<>();
    for (String name : names) out.add(name + ":" + port);
    for (String e : extra) {
      String x = e.trim().toLowerCase(Locale.ROOT);
      boolean hasPort = x.startsWith("[") ? x.contains("]:") : x.contains(":");
      out.add(hasPort ? x : x + ":" + port);
    }
    if (port == 80) {
      // A client leaves the default port out of Host.
      for (String h : List.copyOf(out)) if (h.endsWith(":80")) out.add(h.substring(0, h.length() - 3));
    }
    return java.util.Collections.unmodifiableSet(out);
  }

  private static String incident() {
    return UUID.randomUUID().toString().substring(0, 8);
  }

  /** An error with its HTTP status, for the cases byop's own exceptions do not cover. */
  private static final class ApiError extends ByopException {
    private static final long serialVersionUID = 1L;
    final int status;
    final @Nullable String field;

    ApiError(int status, String message, @Nullable String field) {
      super(message);
      this.status = status;
      this.field = field;
    }
  }

  /** Configures and starts an {@link ApiServer}. */
  public static final class Builder {
    private @Nullable AppStore apps;
    private GitSource.Policy gitPolicy = GitSource.Policy.DEFAULT;
    private @Nullable BuildOrchestrator builds;
    private @Nullable PreviewManager previews;
    private InetSocketAddress address = new InetSocketAddress("127.0.0.1", 8080);
    private int maxBodyBytes = 64 * 1024;
    private int maxStreams = 16;
    private Duration heartbeat = Duration.ofSeconds(15);
    private java.util.function.UnaryOperator<Throwable> masking = java.util.function.UnaryOperator.identity();
    private @Nullable String token;
    private boolean unauthenticated;
    private final List<String> allowedHosts = new ArrayList<>();

    private Builder() {}

    /** The bearer token every request must carry; required unless {@link #unauthenticated()}. */
    public Builder token(ApiToken v) {
      return token(v.value());
    }

    /** The bearer token every request must carry, at least 128 bits of randomness (22 base64url characters). */
    public Builder token(String v) {
      if (v == null || v.length() < ApiToken.MIN_LENGTH || v.chars().anyMatch(c -> c <= ' ' || c > '~')) {
        throw new IllegalArgumentException("an API token needs at least " + ApiToken.MIN_LENGTH
            + " printable characters without spaces");
      }
      token = v;
      unauthenticated = false;
      return this;
    }

    /**
     * Serves without a token: only for a host that authenticates requests before they reach this server (or for a
     * test). Never the default.
     */
    public Builder unauthenticated() {
      token = null;
      unauthenticated = true;
      return this;
    }

    /**
     * More names (or name:port) clients may put in {@code Host}, e.g. the name a reverse proxy forwards; the
     * loopback names and the bound address are always allowed.
     */
    public Builder allowedHosts(String... names) {
      allowedHosts.addAll(List.of(names));
      return this;
    }

    /** Where apps are stored, usually {@code byop.store()}; required. */
    public Builder apps(AppStore v) { apps = v; return this; }

    /** Which git transports apps may use, usually {@code byop.config().gitPolicy()}. */
    public Builder gitPolicy(GitSource.Policy v) { gitPolicy = v; return this; }

    /** The build orchestrator; without it the build endpoints answer 503. */
    public Builder builds(@Nullable BuildOrchestrator v) { builds = v; return this; }

    /** The preview manager; without it the preview endpoints answer 503. */
    public Builder previews(@Nullable PreviewManager v) { previews = v; return this; }

    /**
     * The address to listen on (default 127.0.0.1:8080; port 0 picks a free one). Beyond loopback, the names clients
     * use for it go in {@link #allowedHosts}.
     */
    public Builder address(InetSocketAddress v) { address = v; return this; }

    /** The largest request body accepted (default 64 KiB). */
    public Builder maxBodyBytes(int v) { maxBodyBytes = v; return this; }

    /** How many live log streams may be open at once (default 16). */
    public Builder maxStreams(int v) { maxStreams = v; return this; }

    /** How often an idle log stream sends a keep-alive comment (default 15 s). */
    public Builder heartbeat(Duration v) { heartbeat = v; return this; }

    /**
     * Masks the host's secrets in every exception the server logs (an unexpected store or builder error may quote a
     * password): pass {@code byop::masked}. Without it exceptions are logged as they are.
     */
    public Builder masking(java.util.function.UnaryOperator<Throwable> v) {
      masking = Objects.requireNonNull(v, "masking");
      return this;
    }

    /** Binds the address and starts serving. */
    public ApiServer start() throws IOException {
      return new ApiServer(this);
    }
  }
}
