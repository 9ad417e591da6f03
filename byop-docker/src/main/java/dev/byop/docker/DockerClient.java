package dev.byop.docker;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.byop.docker.internal.BufferedIn;
import dev.byop.docker.internal.EngineConnection;
import dev.byop.docker.internal.ChunkedOutputStream;
import dev.byop.docker.internal.Http1;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small Docker Engine API client over the Unix socket (or plain TCP).
 *
 * <p>Why hand-written: {@code java.net.http.HttpClient} cannot connect to a Unix domain socket, and docker-java
 * brings its own Jersey/Jackson/Apache HttpClient versions that would fight the host application's. What byop needs
 * is small: JSON requests, streamed bodies in both directions, JSON-lines progress, and the raw HTTP/1.1 upgrade
 * that BuildKit's {@code /grpc} endpoint uses. Every call opens its own connection (a local socket connect costs
 * microseconds), so the client is thread-safe and holds no pooled state. A client {@link #over} a carrier of the
 * caller's own (an SSH channel running {@code docker system dial-stdio}, where opening one costs a round trip and
 * a process on the host) keeps its connections alive instead and reuses them, one request at a time each.
 *
 * <pre>{@code
 * try (DockerClient docker = DockerClient.fromEnvironment()) {
 *   docker.ping();
 *   docker.tagImage("byop-test/busybox:1", "127.0.0.1:5000/demo/app", "v1");
 *   PushResult r = docker.pushImage("127.0.0.1:5000/demo/app", "v1",
 *       RegistryAuth.basic("user", "secret", "127.0.0.1:5000"), p -> {});
 * }
 * }</pre>
 */
public final class DockerClient implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(DockerClient.class);
  /** The newest API version this client was written against; older engines get their own version. */
  public static final String MAX_API_VERSION = "1.47";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern IMAGE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,510}");
  private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,127}");

  /** Idle kept-alive connections a carried client holds at most. */
  private static final int MAX_IDLE = 4;
  /** A body left unread up to this many bytes is read out so its connection can be reused; a longer one closes it. */
  private static final int MAX_DRAIN = 256 * 1024;

  private final DockerEndpoint endpoint;
  private final @Nullable String fixedApiVersion;
  private final EngineConnection.@Nullable Opener carrier;
  private final java.util.ArrayDeque<Kept> idle = new java.util.ArrayDeque<>();
  private boolean closed;
  private final java.util.concurrent.atomic.LongAdder opened = new java.util.concurrent.atomic.LongAdder();
  private volatile @Nullable String apiVersion;

  private DockerClient(DockerEndpoint endpoint, @Nullable String fixedApiVersion,
      EngineConnection.@Nullable Opener carrier) {
    this.endpoint = endpoint;
    this.fixedApiVersion = fixedApiVersion;
    this.carrier = carrier;
  }

  /** A kept-alive connection and the buffer that reads it (bytes past one answer belong to the next). */
  private record Kept(EngineConnection connection, BufferedIn in) {}

  /** A client for {@code DOCKER_HOST} (default {@code unix:///var/run/docker.sock}), honouring
   * {@code DOCKER_API_VERSION}. */
  public static DockerClient fromEnvironment() {
    String v = System.getenv("DOCKER_API_VERSION");
    return new DockerClient(DockerEndpoint.fromEnvironment(), v == null || v.isBlank() ? null : v.trim(), null);
  }

  /** A client for an endpoint; the API version is negotiated on first use. */
  public static DockerClient connect(DockerEndpoint endpoint) {
    return new DockerClient(endpoint, null, null);
  }

  /**
   * A client whose connections are carried by {@code carrier} (e.g. {@code docker system dial-stdio} over an SSH
   * channel the caller holds); {@code endpoint} only names the engine in messages and the {@code Host} header.
   * Connections are kept alive and reused; {@link #close} ends the idle ones.
   */
  public static DockerClient over(DockerEndpoint endpoint, EngineConnection.Opener carrier) {
    return new DockerClient(endpoint, null, java.util.Objects.requireNonNull(carrier, "carrier"));
  }

  public DockerEndpoint endpoint() {
    return endpoint;
  }

  // ---------------------------------------------------------------- engine

  /** {@code GET /_ping}; throws {@link DockerException} when the engine does not answer OK. */
  public void ping() {
    try (DockerResponse r = execute("GET", "/_ping", Map.of(), null, false)) {
      String body = r.bodyAsString().trim();
      if (r.status() != 200 || !"OK".equals(body)) {
        throw new DockerException(r.status(), body, "Docker engine at " + endpoint + " answered ping with HTTP "
            + r.status() + " '" + body + "'");
      }
    }
  }

  /** {@code GET /version}. */
  public DockerVersion version() {
    JsonNode v = requestJson("GET", "/version", null, false);
    return new DockerVersion(v.path("Version").asText(""), v.path("ApiVersion").asText(""),
        v.path("MinAPIVersion").asText(""), v.path("Os").asText(""), v.path("Arch").asText(""));
  }

  /** The API version used in request paths: the engine's own, capped at {@link #MAX_API_VERSION}. */
  public String apiVersion() {
    String v = fixedApiVersion != null ? fixedApiVersion : apiVersion;
    if (v == null) {
      String server = version().apiVersion();
      v = server.isEmpty() ? "1.41" : compareVersions(server, MAX_API_VERSION) > 0 ? MAX_API_VERSION : server;
      apiVersion = v;
      LOG.debug("Docker engine at {} speaks API {}, using {}", endpoint, server, v);
    }
    return v;
  }

  static int compareVersions(String a, String b) {
    String[] pa = a.split("\\.");
    String[] pb = b.split("\\.");
    for (int i = 0; i < Math.max(pa.length, pb.length); i++) {
      int x = i < pa.length ? parseIntOr0(pa[i]) : 0;
      int y = i < pb.length ? parseIntOr0(pb[i]) : 0;
      if (x != y) {
        return Integer.compare(x, y);
      }
    }
    return 0;
  }

  private static int parseIntOr0(String s) {
    try {
      return Integer.parseInt(s);
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  // ---------------------------------------------------------------- images

  /** {@code GET /images/{name}/json}; empty when the engine has no such image. */
  public Optional<ImageInfo> inspectImage(String name) {
    checkImageName(name);
    JsonNode j;
    try {
      j = requestJson("GET", "/images/" + encodePath(name) + "/json", null, true);
    } catch (DockerException e) {
      if (e.isNotFound()) {
        return Optional.empty();
      }
      throw e;
    }
    Map<String, String> labels = new LinkedHashMap<>();
    j.path("Config").path("Labels").fields().forEachRemaining(en -> labels.put(en.getKey(), en.getValue().asText()));
    return Optional.of(new ImageInfo(j.path("Id").asText(), strings(j.path("RepoTags")),
        strings(j.path("RepoDigests")), j.path("Size").asLong(), strings(j.path("RootFS").path("Layers")),
        Map.copyOf(labels), j.path("Architecture").asText(""), j.path("Os").asText(""), j.toString()));
  }

  /**
   * {@code GET /images/{name}/get}: the image as a {@code docker save} tar stream. The caller must close it
   * (that closes the connection).
   */
  public InputStream saveImage(String name) {
    checkImageName(name);
    return openStream("GET", "/images/" + encodePath(name) + "/get");
  }

  /** {@code GET /images/get?names=…}: several images in one {@code docker save} tar stream. */
  public InputStream saveImages(List<String> names) {
    if (names.isEmpty()) {
      throw new IllegalArgumentException("saveImages needs at least one image name");
    }
    StringBuilder q = new StringBuilder("/images/get?");
    for (String n : names) {
      checkImageName(n);
      if (q.charAt(q.length() - 1) != '?') {
        q.append('&');
      }
      q.append("names=").append(URLEncoder.encode(n, StandardCharsets.UTF_8));
    }
    return openStream("GET", q.toString());
  }

  private InputStream openStream(String method, String path) {
    DockerResponse r = execute(method, path, Map.of(), null, true);
    if (r.status() / 100 != 2) {
      throw errorFrom(method, path, r);
    }
    return new FilterInputStream(r.body()) {
      @Override
      public void close() {
        r.close();
      }
    };
  }

  /**
   * {@code POST /images/load}: streams a {@code docker save} tar to the engine.
   *
   * @return the image names (or ids) the engine reports loaded
   */
  public List<String> loadImage(InputStream tar, Consumer<ProgressMessage> progress) {
    List<String> loaded = new ArrayList<>();
    try (DockerResponse r = execute("POST", "/images/load?quiet=1",
        Map.of("Content-Type", "application/x-tar"), tar, true)) {
      if (r.status() / 100 != 2) {
        throw errorFrom("POST", "/images/load", r);
      }
      readProgress(r, "POST /images/load", m -> {
        String s = m.status().trim();
        if (s.startsWith("Loaded image: ")) {
          loaded.add(s.substring("Loaded image: ".length()).trim());
        } else if (s.startsWith("Loaded image ID: ")) {
          loaded.add(s.substring("Loaded image ID: ".length()).trim());
        }
        progress.accept(m);
      }, aux -> {});
    }
    return loaded;
  }

  /**
   * {@code POST /images/{name}/push?tag=…} with {@code X-Registry-Auth}; errors inside the progress stream
   * become a {@link DockerException}.
   */
  public PushResult pushImage(String name, String tag, RegistryAuth auth, Consumer<ProgressMessage> progress) {
    checkImageName(name);
    checkTag(tag);
    String path = "/images/" + encodePath(name) + "/push?tag=" + URLEncoder.encode(tag, StandardCharsets.UTF_8);
    PushResult[] result = new PushResult[1];
    try (DockerResponse r = execute("POST", path, Map.of("X-Registry-Auth", auth.toHeaderValue()), null, true)) {
      if (r.status() / 100 != 2) {
        throw errorFrom("POST", "/images/" + name + "/push", r);
      }
      readProgress(r, "push of " + name + ":" + tag, m -> {
        // the containerd image store (26.1) sends no aux record, only this status line
        java.util.regex.Matcher d = PUSHED_DIGEST.matcher(m.status().trim());
        if (result[0] == null && d.matches()) {
          result[0] = new PushResult(d.group(1), d.group(2), Long.parseLong(d.group(3)));
        }
        progress.accept(m);
      }, aux -> {
        if (aux.has("Digest")) {
          result[0] = new PushResult(aux.path("Tag").asText(tag), aux.path("Digest").asText(), aux.path("Size").asLong());
        }
      });
    }
    if (result[0] == null) {
      throw new DockerException(200, "", "push of " + name + ":" + tag + " ended without a digest from the engine");
    }
    return result[0];
  }

  /** The push's closing status line, {@code <tag>: digest: sha256:… size: <n>}. */
  private static final java.util.regex.Pattern PUSHED_DIGEST =
      java.util.regex.Pattern.compile("(\\S+): digest: (sha256:[0-9a-f]{64}) size: (\\d+)");

  /** {@code POST /images/{source}/tag?repo=…&tag=…}. */
  public void tagImage(String source, String repo, String tag) {
    checkImageName(source);
    checkImageName(repo);
    checkTag(tag);
    String path = "/images/" + encodePath(source) + "/tag?repo=" + URLEncoder.encode(repo, StandardCharsets.UTF_8)
        + "&tag=" + URLEncoder.encode(tag, StandardCharsets.UTF_8);
    request("POST", path);
  }

  /** {@code DELETE /images/{name}}; returns false when there was no such image. */
  public boolean removeImage(String name, boolean force) {
    checkImageName(name);
    try {
      request("DELETE", "/images/" + encodePath(name) + "?force=" + force);
      return true;
    } catch (DockerException e) {
      if (e.isNotFound()) {
        return false;
      }
      throw e;
    }
  }

  // ---------------------------------------------------------------- generic

  /**
   * Sends a request with an optional JSON body to a versioned path (e.g. {@code /containers/json?all=1}) and
   * returns the parsed JSON answer ({@code null}-node for an empty body); non-2xx statuses throw.
   */
  public JsonNode requestJson(String method, String pathAndQuery, @Nullable Object jsonBody) {
    return requestJson(method, pathAndQuery, jsonBody, true);
  }

  private JsonNode requestJson(String method, String pathAndQuery, @Nullable Object jsonBody, boolean versioned) {
    byte[] body = null;
    Map<String, String> headers = Map.of();
    if (jsonBody != null) {
      try {
        body = JSON.writeValueAsBytes(jsonBody);
      } catch (JsonProcessingException e) {
        throw new IllegalArgumentException("request body is not serializable as JSON: " + e.getMessage(), e);
      }
      headers = Map.of("Content-Type", "application/json");
    }
    long began = System.nanoTime();
    try (DockerResponse r = execute(method, pathAndQuery, headers, body, versioned)) {
      if (r.status() / 100 != 2) {
        throw errorFrom(method, pathAndQuery, r);
      }
      String s = r.bodyAsString();
      if (LOG.isDebugEnabled()) {
        // the path only up to its query: filters may carry label values
        LOG.debug("engine request on {}: {} {} ({} ms)", endpoint, method, pathAndQuery.split("\\?", 2)[0],
            (System.nanoTime() - began) / 1_000_000);
      }
      if (s.isBlank()) {
        return JSON.nullNode();
      }
      try {
        return JSON.readTree(s);
      } catch (JsonProcessingException e) {
        throw new DockerException(r.status(), s, method + " " + pathAndQuery + " answered non-JSON", e);
      }
    }
  }

  private void request(String method, String pathAndQuery) {
    try (DockerResponse r = execute(method, pathAndQuery, Map.of(), null, true)) {
      if (r.status() / 100 != 2) {
        throw errorFrom(method, pathAndQuery, r);
      }
      r.body().transferTo(OutputStream.nullOutputStream());
    } catch (IOException e) {
      throw unreachable(method + " " + pathAndQuery, e);
    }
  }

  /**
   * Sends one request and returns the response with its body unread, whatever the status.
   *
   * @param pathAndQuery unversioned path ({@code /images/json}); the negotiated {@code /v1.xx} is prefixed
   * @param body null, a {@code byte[]} (sent with Content-Length) or an {@link InputStream} (sent chunked)
   */
  public DockerResponse execute(String method, String pathAndQuery, Map<String, String> headers,
      @Nullable Object body) {
    return execute(method, pathAndQuery, headers, body, true);
  }

  private DockerResponse execute(String method, String pathAndQuery, Map<String, String> headers,
      @Nullable Object body, boolean versioned) {
    if (!pathAndQuery.startsWith("/")) {
      throw new IllegalArgumentException("request path '" + pathAndQuery + "' must start with /");
    }
    String target = versioned ? "/v" + apiVersion() + pathAndQuery : pathAndQuery;
    LOG.debug("{} {} on {}", method, target, endpoint);
    Kept kept = carrier == null ? null : takeIdle();
    if (kept != null) {
      try {
        return send(kept, method, pathAndQuery, target, headers, body);
      } catch (StaleConnection e) {
        // the engine (or the carrier) ended an idle connection: nothing of the request was answered; once more on a
        // fresh one, unless a streamed body may have been consumed
        if (body instanceof InputStream) throw unreachable(method + " " + pathAndQuery, e.cause);
        LOG.debug("kept connection to {} was stale ({}); opening a new one", endpoint, e.cause.toString());
      }
    }
    EngineConnection ch = open(method + " " + pathAndQuery);
    try {
      return send(new Kept(ch, new BufferedIn(ch.input())), method, pathAndQuery, target, headers, body);
    } catch (StaleConnection e) {
      throw unreachable(method + " " + pathAndQuery, e.cause);
    }
  }

  /** A kept connection that failed before any byte of the answer: the request may be sent again. */
  private static final class StaleConnection extends Exception {
    final IOException cause;

    StaleConnection(IOException cause) {
      super(cause);
      this.cause = cause;
    }
  }

  private DockerResponse send(Kept c, String method, String pathAndQuery, String target, Map<String, String> headers,
      @Nullable Object body) throws StaleConnection {
    EngineConnection ch = c.connection();
    boolean answered = false;
    try {
      OutputStream out = ch.output();
      List<String[]> h = new ArrayList<>();
      h.add(new String[] {"Host", endpoint.hostHeader()});
      h.add(new String[] {"User-Agent", "byop-docker"});
      if (carrier == null) h.add(new String[] {"Connection", "close"});
      headers.forEach((k, v) -> h.add(new String[] {k, v}));
      if (body instanceof byte[] bytes) {
        h.add(new String[] {"Content-Length", Integer.toString(bytes.length)});
        Http1.writeHead(out, method, target, h);
        out.write(bytes);
      } else if (body instanceof InputStream in) {
        h.add(new String[] {"Transfer-Encoding", "chunked"});
        Http1.writeHead(out, method, target, h);
        ChunkedOutputStream chunked = new ChunkedOutputStream(new java.io.BufferedOutputStream(out, 64 * 1024));
        byte[] buf = new byte[64 * 1024];
        int n;
        while ((n = in.read(buf)) > 0) {
          chunked.write(buf, 0, n);
        }
        chunked.finish();
      } else if (body == null) {
        if (!"GET".equals(method) && !"HEAD".equals(method) && !"DELETE".equals(method)) {
          h.add(new String[] {"Content-Length", "0"});
        }
        Http1.writeHead(out, method, target, h);
      } else {
        throw new IllegalArgumentException("request body must be byte[] or InputStream, not " + body.getClass());
      }
      BufferedIn in = c.in();
      // an answer's first byte tells a live kept connection from one the engine ended while idle
      if (carrier != null && !in.awaitData()) throw new java.io.EOFException("the engine closed the kept connection");
      answered = true;
      Http1.Head head = Http1.readHead(in);
      InputStream b = Http1.body(method, head, in);
      String connection = head.first("connection");
      boolean reusable = carrier != null && b != in
          && (connection == null || !connection.toLowerCase(java.util.Locale.ROOT).contains("close"));
      return new DockerResponse(head.status(), head.headers(), reusable ? new Returning(b, c) : b);
    } catch (IOException | RuntimeException e) {
      closeQuietly(ch);
      if (e instanceof IOException io && !answered && carrier != null) throw new StaleConnection(io);
      if (e instanceof RuntimeException re) {
        throw re;
      }
      throw unreachable(method + " " + pathAndQuery, (IOException) e);
    }
  }

  /**
   * A kept-alive answer's body: closing it reads out what is left (up to {@link #MAX_DRAIN}) and hands the connection
   * back for the next request, never closing it; a body that breaks or is too long to read out closes it.
   */
  private final class Returning extends FilterInputStream {
    private final Kept kept;
    private boolean done;

    Returning(InputStream body, Kept kept) {
      super(body);
      this.kept = kept;
    }

    @Override
    public void close() {
      if (done) return;
      done = true;
      try {
        byte[] skip = new byte[8192];
        long left = MAX_DRAIN;
        int n;
        while (left > 0 && (n = in.read(skip, 0, (int) Math.min(skip.length, left))) >= 0) left -= n;
        if (left <= 0 && in.read() >= 0) {
          closeQuietly(kept.connection());
          return;
        }
        giveBack(kept);
      } catch (IOException e) {
        closeQuietly(kept.connection());
      }
    }
  }

  private @Nullable Kept takeIdle() {
    synchronized (idle) {
      Kept k;
      while ((k = idle.pollLast()) != null) {
        if (k.connection().isOpen()) return k;
        closeQuietly(k.connection());
      }
      return null;
    }
  }

  private void giveBack(Kept k) {
    synchronized (idle) {
      if (!closed && idle.size() < MAX_IDLE && k.connection().isOpen()) {
        idle.addLast(k);
        return;
      }
    }
    closeQuietly(k.connection());
  }

  /**
   * Sends {@code POST path} with {@code Connection: Upgrade} and {@code Upgrade: protocol}; on
   * {@code 101 Switching Protocols} returns the raw connection (Docker's {@code /grpc} and {@code /session}).
   */
  public UpgradedConnection upgrade(String path, String protocol, Map<String, List<String>> headers) {
    EngineConnection ch = open("POST " + path);
    try {
      OutputStream out = ch.output();
      List<String[]> h = new ArrayList<>();
      h.add(new String[] {"Host", endpoint.hostHeader()});
      h.add(new String[] {"User-Agent", "byop-docker"});
      h.add(new String[] {"Connection", "Upgrade"});
      h.add(new String[] {"Upgrade", protocol});
      headers.forEach((k, vs) -> vs.forEach(v -> h.add(new String[] {k, v})));
      Http1.writeHead(out, "POST", path, h);
      BufferedIn in = new BufferedIn(ch.input());
      Http1.Head head = Http1.readHead(in);
      if (head.status() != 101) {
        DockerResponse r = new DockerResponse(head.status(), head.headers(), Http1.body("POST", head, in));
        throw errorFrom("POST", path + " (upgrade to " + protocol + ")", r);
      }
      return new UpgradedConnection(ch, in, out);
    } catch (IOException | RuntimeException e) {
      closeQuietly(ch);
      if (e instanceof RuntimeException re) {
        throw re;
      }
      throw unreachable("POST " + path, (IOException) e);
    }
  }

  /** How many connections this client has opened to its engine (a carried client reuses them). */
  public long connectionsOpened() {
    return opened.sum();
  }

  private EngineConnection open(String what) {
    opened.increment();
    try {
      return carrier != null ? carrier.open() : endpoint.open();
    } catch (IOException e) {
      throw unreachable(what, e);
    }
  }

  private DockerException unreachable(String what, IOException e) {
    String why = e instanceof java.nio.file.NoSuchFileException ? "socket " + e.getMessage() + " does not exist"
        : e.toString();
    return new DockerException(0, why, "cannot talk to the Docker engine at " + endpoint + " (" + what + "): " + why, e);
  }

  /** Reads the error body (at most 64 KiB) and turns it into an exception; closes the response. */
  private static DockerException errorFrom(String method, String path, DockerResponse r) {
    String msg;
    try (r) {
      byte[] b = r.body().readNBytes(64 * 1024);
      msg = new String(b, StandardCharsets.UTF_8).trim();
      try {
        JsonNode j = JSON.readTree(msg);
        if (j != null && j.hasNonNull("message")) {
          msg = j.get("message").asText();
        }
      } catch (JsonProcessingException notJson) {
        // plain-text error body: keep as is
      }
    } catch (IOException e) {
      msg = "(error body unreadable: " + e + ")";
    }
    String p = path.contains("?") ? path.substring(0, path.indexOf('?')) : path;
    return new DockerException(r.status(), msg, method + " " + p + " failed with HTTP " + r.status() + ": " + msg);
  }

  /** Parses a JSON-lines progress stream; {@code errorDetail}/{@code error} become an exception. */
  private static void readProgress(DockerResponse r, String what, Consumer<ProgressMessage> progress,
      Consumer<JsonNode> aux) {
    try (MappingIterator<JsonNode> it = JSON.readerFor(JsonNode.class).readValues(r.body())) {
      while (it.hasNextValue()) {
        JsonNode j = it.nextValue();
        if (j.hasNonNull("errorDetail") || j.hasNonNull("error")) {
          String m = j.path("errorDetail").path("message").asText(j.path("error").asText("unknown error"));
          throw new DockerException(r.status(), m, what + " failed: " + m);
        }
        if (j.hasNonNull("aux")) {
          aux.accept(j.get("aux"));
          continue;
        }
        String status = j.hasNonNull("status") ? j.get("status").asText() : j.path("stream").asText("");
        JsonNode d = j.path("progressDetail");
        progress.accept(new ProgressMessage(j.hasNonNull("id") ? j.get("id").asText() : null, status,
            d.path("current").asLong(-1), d.path("total").asLong(-1)));
      }
    } catch (IOException e) {
      throw new DockerException(r.status(), e.toString(), what + ": the progress stream broke: " + e, e);
    }
  }

  private static List<String> strings(JsonNode arr) {
    List<String> out = new ArrayList<>();
    for (Iterator<JsonNode> it = arr.elements(); it.hasNext(); ) {
      out.add(it.next().asText());
    }
    return List.copyOf(out);
  }

  static void checkImageName(String name) {
    if (!IMAGE_NAME.matcher(name).matches() || name.contains("..") || name.contains("//")) {
      throw new IllegalArgumentException("image name '" + name
          + "' is invalid: it must start with a letter or digit and contain only [A-Za-z0-9._/:@+-]");
    }
  }

  static void checkTag(String tag) {
    if (!TAG.matcher(tag).matches()) {
      throw new IllegalArgumentException(
          "tag '" + tag + "' is invalid: 1-128 of [A-Za-z0-9_.-], not starting with '.' or '-'");
    }
  }

  /** Percent-encodes what is not allowed raw in a path; '/' and ':' stay, the engine's router expects them. */
  static String encodePath(String s) {
    StringBuilder sb = new StringBuilder();
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xff);
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-._~/:@+".indexOf(c) >= 0) {
        sb.append(c);
      } else {
        sb.append('%').append(String.format("%02X", b & 0xff));
      }
    }
    return sb.toString();
  }

  private static void closeQuietly(EngineConnection ch) {
    ch.close();
  }

  /**
   * Ends the kept-alive connections of a client {@link #over} a carrier (answers still being read end when read);
   * for a socket client nothing is pooled. Safe to call twice.
   */
  @Override
  public void close() {
    List<Kept> ending;
    synchronized (idle) {
      closed = true;
      ending = new ArrayList<>(idle);
      idle.clear();
    }
    ending.forEach(k -> closeQuietly(k.connection()));
  }
}
