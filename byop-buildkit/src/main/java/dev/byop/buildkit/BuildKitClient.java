package dev.byop.buildkit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.byop.buildkit.internal.AuthService;
import dev.byop.buildkit.internal.ByteStream;
import dev.byop.buildkit.internal.FileSyncService;
import dev.byop.buildkit.internal.HealthService;
import dev.byop.buildkit.internal.PatternMatcher;
import dev.byop.buildkit.internal.ProgressPrinter;
import dev.byop.buildkit.internal.SafePaths;
import dev.byop.buildkit.internal.SecretsService;
import dev.byop.buildkit.internal.Session;
import dev.byop.buildkit.internal.SocketBridge;
import dev.byop.buildkit.internal.UnixSocketStream;
import dev.byop.buildkit.internal.QuietLocalChannel;
import dev.byop.buildkit.internal.proto.CacheOptions;
import dev.byop.buildkit.internal.proto.CacheOptionsEntry;
import dev.byop.buildkit.internal.proto.ControlGrpc;
import dev.byop.buildkit.internal.proto.Exporter;
import dev.byop.buildkit.internal.proto.InfoRequest;
import dev.byop.buildkit.internal.proto.InfoResponse;
import dev.byop.buildkit.internal.proto.ListWorkersRequest;
import dev.byop.buildkit.internal.proto.ListWorkersResponse;
import dev.byop.buildkit.internal.proto.Platform;
import dev.byop.buildkit.internal.proto.SolveRequest;
import dev.byop.buildkit.internal.proto.SolveResponse;
import dev.byop.buildkit.internal.proto.StatusRequest;
import dev.byop.buildkit.internal.proto.StatusResponse;
import dev.byop.buildkit.internal.proto.WorkerRecord;
import dev.byop.core.BuildException;
import dev.byop.core.CancelledException;
import dev.byop.core.Credentials;
import dev.byop.core.auth.CredentialResolver;
import dev.byop.core.spi.Cancellation;
import dev.byop.core.spi.ImageBuilder.BuilderCapabilities;
import dev.byop.core.spi.LogSink;
import dev.byop.docker.DockerClient;
import dev.byop.docker.DockerException;
import dev.byop.docker.DockerVersion;
import dev.byop.docker.UpgradedConnection;
import io.grpc.ChannelCredentials;
import io.grpc.Context;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.DefaultEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.local.LocalChannel;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A native BuildKit client: talks BuildKit's gRPC {@code Control} API through Docker's {@code /grpc} endpoint or to a
 * standalone buildkitd, and serves the build session (file sync, credentials, secrets, health) itself.
 *
 * <pre>{@code
 * try (BuildKitClient bk = BuildKitClient.connect(BuildKitEndpoint.docker())) {
 *   SolveResult r = bk.build(DockerfileBuild.local(Path.of("app"), "shop/web:dev"), System.out::println,
 *       Cancellation.none());
 *   r.imageDigest(); // sha256:… image id
 * }
 * }</pre>
 */
public final class BuildKitClient implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BuildKitClient.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern EXIT_CODE = Pattern.compile("exit code: (\\d{1,9})(?!\\d)");
  private static final AtomicInteger THREADS = new AtomicInteger();
  private static final int MAX_DOCKERIGNORE = 1024 * 1024;
  /** The daemon's error text (and a failing step's name) can be as long as a RUN line: summaries are cut. */
  private static final int MAX_STEP = 300;
  private static final int MAX_MESSAGE = 1500;

  private final BuildKitEndpoint endpoint;
  private final @Nullable DockerClient docker;
  private final EventLoopGroup group;
  private final ExecutorService executor;
  private final @Nullable SocketBridge bridge;
  private final ManagedChannel channel;
  private final ControlGrpc.ControlStub control;
  private final Function<String, Optional<Credentials>> credentials;
  private final ThreadLocal<Function<String, Optional<Credentials>>> callCredentials = new ThreadLocal<>();
  private volatile boolean closed;
  private volatile @Nullable BuilderCapabilities capabilities;
  private final boolean dockerSessionEndpoint;

  private BuildKitClient(BuildKitEndpoint endpoint, Function<String, Optional<Credentials>> credentials,
      boolean dockerSessionEndpoint) {
    this.endpoint = endpoint;
    this.dockerSessionEndpoint = dockerSessionEndpoint;
    this.credentials = credentials;
    this.group = new DefaultEventLoopGroup(2, (java.util.concurrent.ThreadFactory) r -> daemonThread(r, "byop-bk-loop"));
    this.executor = Executors.newCachedThreadPool(r -> daemonThread(r, "byop-bk"));
    NettyChannelBuilder cb;
    switch (endpoint.kind()) {
      case DOCKER -> {
        DockerClient d = DockerClient.connect(java.util.Objects.requireNonNull(endpoint.engine()));
        this.docker = d;
        this.bridge = new SocketBridge(group, () -> upgraded(d.upgrade("/grpc", "h2c", Map.of())));
        cb = NettyChannelBuilder.forAddress(bridge.address()).channelType(QuietLocalChannel.class).eventLoopGroup(group)
            .usePlaintext();
      }
      case UNIX -> {
        Path sock = Path.of(java.util.Objects.requireNonNull(endpoint.uri()).getPath());
        this.docker = null;
        this.bridge = new SocketBridge(group, () -> {
          try {
            return new UnixSocketStream(sock);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
        cb = NettyChannelBuilder.forAddress(bridge.address()).channelType(QuietLocalChannel.class).eventLoopGroup(group)
            .usePlaintext();
      }
      default -> {
        this.docker = null;
        this.bridge = null;
        java.net.URI u = java.util.Objects.requireNonNull(endpoint.uri());
        cb = NettyChannelBuilder.forAddress(u.getHost(), u.getPort(), channelCredentials(endpoint.tls()));
        BuildKitEndpoint.Tls tls = endpoint.tls();
        if (tls != null && tls.serverName() != null) {
          cb.overrideAuthority(tls.serverName());
        }
      }
    }
    if (bridge != null) {
      cb.overrideAuthority("localhost");
    }
    // A failed step's error comes back in the grpc-message trailer and holds the whole RUN line: a user's 20 KB line
    // overran the default 8 KiB of headers and the build failed with only "http2 exception". 1 MiB keeps the reason;
    // anything longer still fails the build on its first attempt (byop cuts what it records).
    this.channel = cb.executor(executor).maxInboundMessageSize(64 * 1024 * 1024)
        .maxInboundMetadataSize(1024 * 1024).build();
    this.control = ControlGrpc.newStub(channel);
  }

  /**
   * Connects lazily (the first call opens the transport); registry credentials come from the Docker config
   * ({@link CredentialResolver#defaults()}).
   */
  public static BuildKitClient connect(BuildKitEndpoint endpoint) {
    return connect(endpoint, CredentialResolver.defaults()::resolve);
  }

  /**
   * Connects with a registry credential lookup: host as the daemon asks ({@code registry-1.docker.io} for Docker Hub)
   * to credentials (an empty user name for an identity token); empty means anonymous.
   */
  public static BuildKitClient connect(BuildKitEndpoint endpoint,
      Function<String, Optional<Credentials>> credentials) {
    return new BuildKitClient(endpoint, credentials, true);
  }

  /** For tests: on a Docker endpoint, carry the session in Control/Session (the standalone path) instead. */
  static BuildKitClient connectWithControlSession(BuildKitEndpoint endpoint) {
    return new BuildKitClient(endpoint, CredentialResolver.defaults()::resolve, false);
  }

  private static ChannelCredentials channelCredentials(BuildKitEndpoint.@Nullable Tls tls) {
    if (tls == null) {
      return InsecureChannelCredentials.create();
    }
    try {
      TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder();
      if (tls.caCert() != null) {
        b.trustManager(tls.caCert().toFile());
      }
      if (tls.clientCert() != null && tls.clientKey() != null) {
        b.keyManager(tls.clientCert().toFile(), tls.clientKey().toFile());
      }
      return b.build();
    } catch (IOException e) {
      throw new BuildException("cannot read BuildKit TLS files " + tls + ": " + e.getMessage(), e);
    }
  }

  private static ByteStream upgraded(UpgradedConnection c) {
    return new ByteStream() {
      @Override
      public InputStream input() {
        return c.input();
      }

      @Override
      public OutputStream output() {
        return c.output();
      }

      @Override
      public void close() {
        c.close();
      }
    };
  }

  private static Thread daemonThread(Runnable r, String prefix) {
    Thread t = new Thread(r, prefix + "-" + THREADS.incrementAndGet());
    t.setDaemon(true);
    return t;
  }

  public BuildKitEndpoint endpoint() {
    return endpoint;
  }

  /** Checks that the daemon answers; a missing socket or dead engine gives a message naming the endpoint. */
  public void checkReachable() {
    if (docker != null) {
      try {
        docker.ping();
      } catch (DockerException e) {
        throw new BuildException("BuildKit endpoint " + endpoint + " is unreachable: " + e.getMessage(), e);
      }
      return;
    }
    if (endpoint.kind() == BuildKitEndpoint.Kind.UNIX) {
      Path sock = Path.of(java.util.Objects.requireNonNull(endpoint.uri()).getPath());
      if (!Files.exists(sock)) {
        throw new BuildException("BuildKit endpoint " + endpoint + " is unreachable: socket " + sock
            + " does not exist");
      }
    }
    listWorkers();
  }

  private ListWorkersResponse listWorkers() {
    CompletableFuture<ListWorkersResponse> f = new CompletableFuture<>();
    control.withDeadlineAfter(30, TimeUnit.SECONDS).listWorkers(ListWorkersRequest.getDefaultInstance(), observer(f));
    return await(f, "ListWorkers");
  }

  /**
   * What the daemon can do: version (when the API says it), worker platforms, whether it pushes itself. Asked of the
   * daemon once per client (four calls: ping, ListWorkers, Info, version) and then kept: the orchestrator asks on
   * every build, and an engine does not change these without a restart that a long-lived client would not notice
   * anyway.
   */
  public BuilderCapabilities capabilities() {
    BuilderCapabilities c = capabilities;
    if (c == null) {
      c = fetchCapabilities();
      capabilities = c;
    }
    return c;
  }

  private BuilderCapabilities fetchCapabilities() {
    checkReachable();
    ListWorkersResponse workers = listWorkers();
    Set<String> platforms = new java.util.LinkedHashSet<>();
    Map<String, String> details = new LinkedHashMap<>();
    details.put("endpoint", endpoint.toString());
    List<String> ids = new ArrayList<>();
    for (WorkerRecord w : workers.getRecordList()) {
      ids.add(w.getId());
      for (Platform p : w.getPlatformsList()) {
        platforms.add(p.getOs() + "/" + p.getArchitecture() + (p.getVariant().isEmpty() ? "" : "/" + p.getVariant()));
      }
      String exec = w.getLabelsMap().get("org.mobyproject.buildkit.worker.executor");
      if (exec != null) {
        details.put("executor", exec);
      }
      String snap = w.getLabelsMap().get("org.mobyproject.buildkit.worker.snapshotter");
      if (snap != null) {
        details.put("snapshotter", snap);
      }
    }
    details.put("workers", String.join(",", ids));
    String version = null;
    try {
      CompletableFuture<InfoResponse> f = new CompletableFuture<>();
      control.withDeadlineAfter(30, TimeUnit.SECONDS).info(InfoRequest.getDefaultInstance(), observer(f));
      InfoResponse info = await(f, "Info");
      String reported = info.getBuildkitVersion().getVersion();
      if (stampedVersion(reported)) {
        version = reported;
      } else if (!reported.isEmpty()) {
        // distribution builds (Debian's docker.io) answer "v0.0.0+unknown-moby": not a version to compare
        details.put("reportedVersion", reported);
      }
    } catch (BuildException e) {
      if (!(e.getCause() instanceof StatusRuntimeException s && s.getStatus().getCode() == Status.Code.UNIMPLEMENTED)) {
        throw e;
      }
      details.put("info", "unimplemented (BuildKit before v0.11)");
    }
    boolean canPush = endpoint.kind() != BuildKitEndpoint.Kind.DOCKER;
    if (docker != null) {
      DockerVersion dv = docker.version();
      details.put("dockerVersion", dv.version());
      // the moby exporter of a classic-store engine ignores push=true (verified on 20.10)
      details.put("push", "via Docker Engine API after the build");
      String embedded = embeddedBuildKit(dv.version());
      if (version == null && embedded != null) {
        version = embedded;
        details.put("versionSource", "Docker " + dv.version() + " embeds BuildKit " + embedded);
      }
    }
    String name = "buildkit (" + endpoint.kind().name().toLowerCase(java.util.Locale.ROOT) + ")";
    return new BuilderCapabilities(name, version, List.copyOf(platforms), canPush, Map.copyOf(details));
  }

  /** Whether BuildKit's Info version is a real release, not empty or an unstamped build's {@code v0.0.0+unknown}. */
  static boolean stampedVersion(String v) {
    return !v.isEmpty() && !v.startsWith("v0.0.0");
  }

  /** The BuildKit an engine release embeds (before v0.11 the daemon cannot say it itself). */
  static @Nullable String embeddedBuildKit(String dockerVersion) {
    String[] p = dockerVersion.split("\\.");
    if (p.length < 2) {
      return null;
    }
    return switch (p[0] + "." + p[1]) {
      case "20.10" -> "v0.8.3";
      case "23.0" -> "v0.10.6";
      case "24.0" -> "v0.11.6";
      case "25.0" -> "v0.12.5";
      case "26.0" -> "v0.13.1";
      case "26.1" -> "v0.13.2";
      default -> null;
    };
  }

  /**
   * Runs one Dockerfile build with its own session, rendering progress as buildctl's plain output into {@code log}.
   * The context and the Dockerfile are opened without following links: give paths without links on the way (real
   * paths, e.g. {@code toRealPath()}); links inside the context are sent as links.
   *
   * @throws BuildException when the build fails (with step, exit code and log tail) or the daemon is unreachable
   * @throws CancelledException when {@code cancellation} fired; the build is cancelled on the daemon too
   */
  public SolveResult build(DockerfileBuild b, LogSink log, Cancellation cancellation) {
    if (closed) {
      throw new IllegalStateException("BuildKitClient is closed");
    }
    cancellation.throwIfCancelled();
    Map<String, Path> dirs = new LinkedHashMap<>();
    String filename = b.dockerfile().getFileName().toString();
    // Both are served as given, opened without following links (SafePaths): a path through a link fails here
    // rather than sending what the link points to.
    if (b.contextDir() != null) {
      if (!SafePaths.isLinkFreeDirectory(b.contextDir())) {
        throw new BuildException("build context " + b.contextDir() + " is not a directory reached without"
            + " following a symbolic link");
      }
      dirs.put("context", b.contextDir());
      checkDockerignore(b.contextDir());
    }
    Path dockerfileDir = b.dockerfile().toAbsolutePath().normalize().getParent();
    if (!isRegularNoFollow(b.dockerfile()) || !SafePaths.isLinkFreeDirectory(dockerfileDir)) {
      throw new BuildException("Dockerfile " + b.dockerfile() + " is not a regular file reached without following"
          + " a symbolic link");
    }
    dirs.put("dockerfile", dockerfileDir);
    long t0 = System.nanoTime();
    if (channel.getState(false) != io.grpc.ConnectivityState.READY) {
      // a clear "unreachable" error before a session is set up; a ready channel has just talked to the daemon
      checkReachable();
    }
    long tReach = System.nanoTime();

    AtomicLong bytes = new AtomicLong();
    Set<String> secretTexts = new HashSet<>();
    for (byte[] s : b.secrets().values()) {
      secretTexts.add(new String(s, StandardCharsets.UTF_8).trim());
    }
    ProgressPrinter printer = new ProgressPrinter(log, secretTexts);
    List<io.grpc.BindableService> services = List.of(new HealthService(),
        new FileSyncService(dirs, executor, bytes),
        new AuthService(callCredentials.get() != null ? callCredentials.get() : credentials),
        new SecretsService(b.secrets(), id -> b.secrets().get(id)));
    String ref = UUID.randomUUID().toString().replace("-", "");
    Session session;
    try {
      DockerClient d = docker;
      // Docker: the /session upgrade carries the session's HTTP/2 directly (one layer fewer than Control/Session)
      session = new Session(control, group, executor, "byop", b.sharedKey(), services,
          d == null || !dockerSessionEndpoint ? null : headers -> upgraded(d.upgrade("/session", "h2c", headers)));
    } catch (IOException e) {
      throw new BuildException("cannot start the BuildKit session: " + e.getMessage(), e);
    }
    Context.CancellableContext callContext = Context.current().withCancellation();
    try (session; AutoCloseable onCancel = cancellation.onCancel(
        () -> callContext.cancel(new CancelledException(cancellation.reason())))) {
      long tSession = System.nanoTime();
      SolveRequest req = solveRequest(b, filename, ref, session.id());
      CompletableFuture<SolveResponse> solved = new CompletableFuture<>();
      CountDownLatch statusDone = new CountDownLatch(1);
      callContext.run(() -> {
        control.solve(req, observer(solved));
        control.status(StatusRequest.newBuilder().setRef(ref).build(), new StreamObserver<>() {
          @Override
          public void onNext(StatusResponse value) {
            synchronized (printer) {
              printer.accept(value);
            }
          }

          @Override
          public void onError(Throwable t) {
            statusDone.countDown();
          }

          @Override
          public void onCompleted() {
            statusDone.countDown();
          }
        });
      });
      SolveResponse resp;
      try {
        resp = solved.get();
      } catch (ExecutionException e) {
        awaitQuietly(statusDone);
        synchronized (printer) {
          printer.finish();
        }
        throw failure(e.getCause(), printer, cancellation);
      } catch (InterruptedException e) {
        callContext.cancel(e);
        Thread.currentThread().interrupt();
        throw new CancelledException("interrupted");
      }
      long tSolved = System.nanoTime();
      awaitQuietly(statusDone);
      synchronized (printer) {
        printer.finish();
      }
      LOG.debug("build {}: reachable {} ms, session {} ms, solve {} ms, status end {} ms", ref,
          (tReach - t0) / 1_000_000, (tSession - tReach) / 1_000_000, (tSolved - tSession) / 1_000_000,
          (System.nanoTime() - tSolved) / 1_000_000);
      return new SolveResult(Map.copyOf(resp.getExporterResponseMap()), bytes.get());
    } catch (BuildException | CancelledException e) {
      throw e;
    } catch (Exception e) {
      throw new BuildException("build failed: " + ProgressPrinter.cutMiddle(String.valueOf(e.getMessage()),
          MAX_MESSAGE), e);
    } finally {
      callContext.cancel(null);
    }
  }

  private static boolean isRegularNoFollow(Path f) {
    try {
      return Files.readAttributes(f, java.nio.file.attribute.BasicFileAttributes.class,
          java.nio.file.LinkOption.NOFOLLOW_LINKS).isRegularFile();
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Checks the context's {@code .dockerignore} before the daemon sees it: a malformed pattern becomes an error
   * naming its line (the daemon only passes the patterns on, without line numbers). Read without following links
   * and bounded, as the daemon reads it.
   */
  static void checkDockerignore(Path contextDir) {
    Path f = contextDir.toAbsolutePath().normalize().resolve(".dockerignore");
    if (!Files.exists(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)
        || Files.isSymbolicLink(f)) {
      return; // a link is sent as a link; the daemon then finds no patterns in it
    }
    byte[] bytes;
    try (InputStream in = java.nio.channels.Channels.newInputStream(SafePaths.openFile(f))) {
      bytes = in.readNBytes(MAX_DOCKERIGNORE + 1);
    } catch (IOException e) {
      throw new BuildException(".dockerignore cannot be read (" + e.getClass().getSimpleName() + ")");
    }
    if (bytes.length > MAX_DOCKERIGNORE) {
      throw new BuildException(".dockerignore is larger than " + MAX_DOCKERIGNORE / 1024 + " KiB");
    }
    String problem = PatternMatcher.checkIgnoreFile(new String(bytes, StandardCharsets.UTF_8));
    if (problem != null) {
      throw new BuildException(problem);
    }
  }

  /** Runs {@code work} (builds on this thread) with a different registry credential lookup. */
  public <T> T withCredentials(Function<String, Optional<Credentials>> lookup,
      java.util.function.Supplier<T> work) {
    Function<String, Optional<Credentials>> before = callCredentials.get();
    callCredentials.set(lookup);
    try {
      return work.get();
    } finally {
      if (before == null) {
        callCredentials.remove();
      } else {
        callCredentials.set(before);
      }
    }
  }

  private static void awaitQuietly(CountDownLatch l) {
    try {
      l.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private RuntimeException failure(Throwable t, ProgressPrinter printer, Cancellation cancellation) {
    if (cancellation.isCancelled()) {
      return new CancelledException(cancellation.reason());
    }
    String msg = t instanceof StatusRuntimeException s ? String.valueOf(s.getStatus().getDescription())
        : String.valueOf(t.getMessage());
    if (t instanceof StatusRuntimeException s && s.getStatus().getCode() == Status.Code.UNAVAILABLE) {
      return new BuildException("BuildKit endpoint " + endpoint + " is unreachable: " + msg, t);
    }
    ProgressPrinter.Failure f;
    synchronized (printer) {
      f = printer.failure();
    }
    Integer exit = null;
    Matcher m = EXIT_CODE.matcher(msg);
    while (m.find()) {
      // the last one: the message quotes the user's command first, which may say "exit code: 0" itself
      exit = Integer.valueOf(m.group(1));
    }
    String shortMsg = ProgressPrinter.cutMiddle(msg, MAX_MESSAGE);
    if (f != null) {
      String step = ProgressPrinter.cutMiddle(f.step(), MAX_STEP);
      String text = "build failed at step " + step + (exit != null ? " (exit code " + exit + ")" : "") + ": "
          + shortMsg;
      return new BuildException(text, step, exit, f.logTail(), t);
    }
    return new BuildException("build failed: " + shortMsg, null, exit, List.of(), t);
  }

  private SolveRequest solveRequest(DockerfileBuild b, String filename, String ref, String sessionId) {
    Map<String, String> attrs = new LinkedHashMap<>();
    attrs.put("filename", filename);
    if (b.target() != null) {
      attrs.put("target", b.target());
    }
    b.buildArgs().forEach((k, v) -> attrs.put("build-arg:" + k, v));
    b.labels().forEach((k, v) -> attrs.put("label:" + k, v));
    if (!b.platforms().isEmpty()) {
      attrs.put("platform", String.join(",", b.platforms()));
    }
    if (b.noCache()) {
      attrs.put("no-cache", "");
    }
    if (b.gitContext() != null) {
      attrs.put("context", b.gitContext());
      attrs.put("dockerfilekey", "dockerfile");
    }
    if (!b.cacheImports().isEmpty()) {
      List<Map<String, Object>> imports = new ArrayList<>();
      for (Map<String, String> c : b.cacheImports()) {
        Map<String, String> a = new LinkedHashMap<>(c);
        String type = a.remove("type");
        imports.add(Map.of("Type", type == null ? "registry" : type, "Attrs", a));
      }
      try {
        attrs.put("cache-imports", JSON.writeValueAsString(imports));
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    }
    String exporter;
    Map<String, String> exAttrs = new LinkedHashMap<>();
    if (!b.imageNames().isEmpty()) {
      exAttrs.put("name", String.join(",", b.imageNames()));
    }
    if (endpoint.kind() == BuildKitEndpoint.Kind.DOCKER) {
      exporter = "moby";
    } else {
      exporter = "image";
      if (b.push()) {
        exAttrs.put("push", "true");
      }
    }
    SolveRequest.Builder r = SolveRequest.newBuilder()
        .setRef(ref)
        .setSession(sessionId)
        .setFrontend("dockerfile.v0")
        .putAllFrontendAttrs(attrs)
        .setExporter(exporter)
        .putAllExporterAttrs(exAttrs)
        .addExporters(Exporter.newBuilder().setType(exporter).putAllAttrs(exAttrs));
    if (!b.cacheImports().isEmpty() || !b.cacheExports().isEmpty()) {
      CacheOptions.Builder c = CacheOptions.newBuilder();
      for (Map<String, String> e : b.cacheImports()) {
        c.addImports(cacheEntry(e));
      }
      for (Map<String, String> e : b.cacheExports()) {
        c.addExports(cacheEntry(e));
      }
      r.setCache(c);
    }
    return r.build();
  }

  private static CacheOptionsEntry cacheEntry(Map<String, String> e) {
    Map<String, String> a = new LinkedHashMap<>(e);
    String type = a.remove("type");
    return CacheOptionsEntry.newBuilder().setType(type == null ? "registry" : type).putAllAttrs(a).build();
  }

  private static <T> StreamObserver<T> observer(CompletableFuture<T> f) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        f.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        f.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        f.completeExceptionally(new IllegalStateException("no response"));
      }
    };
  }

  private <T> T await(CompletableFuture<T> f, String what) {
    try {
      return f.get();
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      String msg = c instanceof StatusRuntimeException s ? s.getStatus().getCode() + ": "
          + s.getStatus().getDescription() : String.valueOf(c);
      throw new BuildException("BuildKit " + what + " on " + endpoint + " failed: " + msg, c);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CancelledException("interrupted");
    }
  }

  /** Shuts the channel, the bridge and our threads down; safe to call twice. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (bridge != null) {
      bridge.close();
    }
    executor.shutdownNow();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }
}
