package dev.byop.examples;

import dev.byop.core.App;
import dev.byop.core.BuildConfig;
import dev.byop.core.BuildJob;
import dev.byop.core.BuildOrchestrator;
import dev.byop.core.BuildStatus;
import dev.byop.core.Byop;
import dev.byop.core.ByopConfig;
import dev.byop.core.ByopException;
import dev.byop.core.ByopListener;
import dev.byop.core.Component;
import dev.byop.core.LogLine;
import dev.byop.core.Preview;
import dev.byop.core.PreviewManager;
import dev.byop.core.PreviewStatus;
import dev.byop.core.ProviderException;
import dev.byop.examples.HostEnvironment.MissingException;
import dev.byop.examples.api.ApiServer;
import dev.byop.examples.api.ApiToken;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.Nullable;

/**
 * The main job: builds the bundled sample app (web + api) from a git repository it creates, starts its local preview
 * and prints the URL, with live progress. A second run reuses what it can (repository, base image, images built from
 * the same commit, a preview already running that commit) and says so.
 *
 * <pre>
 * scripts/example                 build the sample app and start its preview (the README's first command)
 * scripts/example serve [--port N] the HTTP API over the same data directory (see {@link ApiServer}); its bearer
 *                                 token is made in DIR/api/token and printed on the first serve
 * scripts/example providers       which provider byop found for each kind, and why others were passed over
 * scripts/example stop            tear the sample's preview down
 * options: --data DIR (default ./byop-data)  --config byop.yml  --pull auto|never  --router auto|traefik|caddy|plain
 *          --timeout 15m  --docker CLI (default $BYOP_DOCKER_CLI or docker)  --app ID (default sample)
 *          --docker-host URL  --docker-config DIR  --publish-address IP   (another engine than DOCKER_HOST's:
 *          its socket, the CLI config where its Compose v2 plugin is found, the address its published ports are
 *          reached on; scripts/example --engine docker26 sets them for the test bed's Docker 26.1)
 * </pre>
 */
public final class Main {
  private final PrintStream out;
  private final Progress progress;
  private Path dataDir = Path.of("byop-data");
  private @Nullable Path configFile;
  private boolean pull = !"never".equals(System.getenv("BYOP_EXAMPLE_PULL"));
  private String router = "auto";
  private Duration timeout = Duration.ofMinutes(15);
  private int port = 8080;
  private List<String> docker = HostEnvironment.dockerCli();
  private String appId = SampleApp.APP_ID;
  private @Nullable String dockerHost;
  private @Nullable Path dockerConfig;
  private @Nullable String publishAddress;

  Main(PrintStream out, boolean terminal) {
    this.out = out;
    this.progress = new Progress(out, terminal);
  }

  public static void main(String[] args) {
    Main m = new Main(System.out, System.console() != null);
    int code = m.run(args);
    System.exit(code);
  }

  /** Runs one command; returns the process exit code (0 done, 1 failed, 2 something needed is missing, 64 usage). */
  int run(String[] args) {
    String command = "run";
    try {
      List<String> rest = new ArrayList<>(List.of(args));
      if (!rest.isEmpty() && !rest.get(0).startsWith("-")) command = rest.remove(0);
      parseOptions(rest);
      return switch (command) {
        case "run" -> runSample();
        case "serve" -> serve();
        case "providers" -> providers();
        case "stop" -> stop();
        default -> throw new IllegalArgumentException("unknown command '" + command + "'");
      };
    } catch (IllegalArgumentException e) {
      progress.close();
      out.println("error: " + e.getMessage());
      out.println("usage: scripts/example [run|serve|providers|stop] [--data DIR] [--config FILE] [--pull auto|never]"
          + " [--router auto|traefik|caddy|plain] [--timeout 15m] [--port 8080] [--docker CLI] [--docker-host URL]"
          + " [--docker-config DIR] [--publish-address IP]");
      return 64;
    } catch (MissingException e) {
      progress.close();
      out.println("missing: " + e.getMessage());
      return 2;
    } catch (ProviderException e) {
      progress.close();
      out.println("missing: byop found no usable provider.\n" + e.getMessage());
      return 2;
    } catch (ByopException e) {
      progress.close();
      out.println("failed: " + e.getMessage());
      return 1;
    } catch (java.io.UncheckedIOException e) {
      progress.close();
      out.println("failed: " + e.getMessage() + " (" + e.getCause().getMessage() + ")");
      return 1;
    } finally {
      progress.close();
    }
  }

  private void parseOptions(List<String> args) {
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      String v = i + 1 < args.size() ? args.get(i + 1) : null;
      if (v == null) throw new IllegalArgumentException("option " + a + " needs a value");
      switch (a) {
        case "--data" -> dataDir = Path.of(v);
        case "--docker" -> docker = List.of(v);
        case "--app" -> appId = v;
        case "--docker-host" -> dockerHost = v;
        case "--docker-config" -> dockerConfig = Path.of(v);
        case "--publish-address" -> publishAddress = v;
        case "--config" -> configFile = Path.of(v);
        case "--pull" -> {
          if (!v.equals("auto") && !v.equals("never")) throw new IllegalArgumentException("--pull is auto or never");
          pull = v.equals("auto");
        }
        case "--router" -> {
          if (!List.of("auto", "traefik", "caddy", "plain").contains(v)) {
            throw new IllegalArgumentException("--router is auto, traefik, caddy or plain");
          }
          router = v;
        }
        case "--timeout" -> timeout = dev.byop.core.Settings.of(Map.of("t", v)).duration("t", timeout);
        case "--port" -> {
          try {
            port = Integer.parseInt(v);
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--port needs a number, got '" + v + "'");
          }
        }
        default -> throw new IllegalArgumentException("unknown option '" + a + "'");
      }
      i++;
    }
  }

  // ---------------------------------------------------------------------------------------------------- the main job

  private int runSample() {
    progress.step("byop example: build the sample app and start its preview (data in " + dataDir + ")");
    HostEnvironment host = new HostEnvironment(engineCli(), pull, progress);
    progress.info("Docker Engine " + host.requireDocker());
    String base = host.baseImage(dataDir);
    HostEnvironment.Router chosen = configFile == null ? host.router(router) : null;
    if (chosen != null) {
      progress.info("router: " + chosen.kind() + " (" + chosen.why() + ")");
      RouterChoice.save(dataDir, chosen.settings());
    }

    progress.step("Sample repository");
    SampleApp.Repo repo = SampleApp.ensureRepository(dataDir);
    progress.info(repo.gitDir() + " at " + repo.commit().substring(0, 12)
        + (repo.reused() ? " (unchanged since the last run, reused)" : " (committed now)"));

    Tracker tracker = new Tracker();
    try (Byop byop = open(chosen, tracker, "run")) {
      // On Ctrl-C the workers stop cleanly; a build or preview left half-way is taken up by the next run.
      Thread onExit = new Thread(() -> {
        progress.close();
        byop.close();
      }, "byop-example-exit");
      Runtime.getRuntime().addShutdownHook(onExit);
      try {
        return runSample(byop, repo, base, host, tracker);
      } finally {
        try {
          Runtime.getRuntime().removeShutdownHook(onExit);
        } catch (IllegalStateException shuttingDown) {
          // the hook is running already
        }
      }
    }
  }

  private int runSample(Byop byop, SampleApp.Repo repo, String base, HostEnvironment host, Tracker tracker) {
    printProviders(byop);
    App app = SampleApp.app(appId, repo, base);
    Optional<App> stored = byop.store().findApp(app.id());
    if (stored.isPresent() && stored.get().equals(app)) {
      progress.info("app '" + app.id() + "' is in the store unchanged (reused)");
    } else {
      byop.store().saveApp(app);
      progress.info("app '" + app.id() + "' " + (stored.isPresent() ? "updated" : "saved") + " in the store");
    }
    if (!buildAll(byop.orchestrator(), app, repo.commit(), host, tracker)) return 1;
    return preview(byop.previews(), app, repo.commit(), host, tracker);
  }

  private Byop open(HostEnvironment.@Nullable Router chosen, ByopListener listener, String command) {
    ByopConfig config = configuration(command, chosen);
    if (configFile != null) progress.info("configuration: " + configFile);
    return Byop.builder().config(config).discover(Main.class.getClassLoader()).listener(listener).build();
  }

  /**
   * The configuration of a command: the operator's file when given (taken as is), else the example's own. Only the
   * main job ({@code run}) turns on {@code git.allowFile}: it fetches nothing but the sample repository it has just
   * made itself, and nobody else talks to it. {@code serve} never does: with file:// allowed, anyone holding the API
   * token could create an app whose source is any repository on this machine (another tenant's checkout, the git
   * cache, the sample's own history) and read it through a build.
   */
  ByopConfig configuration(String command, HostEnvironment.@Nullable Router chosen) {
    boolean allowFileGit = command.equals("run");
    if (configFile != null) {
      return ByopConfig.load(configFile);
    } else {
      Map<String, Object> preview = new LinkedHashMap<>();
      preview.put("provider", "local");
      // byop sweeps containers and routes of its instance that its store does not know; one instance per data
      // directory keeps two data directories (or another byop on this engine) from sweeping each other's previews.
      String instance = "byop-example-" + shortHash(dataDir.toAbsolutePath().normalize().toString());
      preview.put("instance", instance);
      if (chosen != null) {
        Map<String, Object> settings = new LinkedHashMap<>(chosen.settings());
        if (settings.get("caddy") instanceof Map<?, ?> c) {
          Map<Object, Object> caddy = new LinkedHashMap<>(c);
          caddy.put("routeIdPrefix", instance + "-");
          settings.put("caddy", caddy);
        }
        preview.putAll(settings);
      }
      preview.put("docker", docker.get(0));
      Map<String, Object> config = new LinkedHashMap<>();
      config.put("dataDir", dataDir.toString());
      config.put("git", Map.of("allowFile", allowFileGit));
      config.put("store", Map.of("provider", "jdbc"));
      if (dockerHost != null) {
        // the builder is that engine's BuildKit, the previews run on it
        config.put("builder", Map.of("endpoint", "docker+" + dockerHost));
        preview.put("dockerHost", dockerHost);
      }
      if (dockerConfig != null) preview.put("dockerConfig", dockerConfig.toString());
      if (publishAddress != null) preview.put("publishAddress", publishAddress);
      config.put("preview", preview);
      return ByopConfig.of(config);
    }
  }

  /**
   * The options a later command needs to find this run's data and engine again: {@code --engine} as
   * {@code scripts/example} exported it ({@code BYOP_EXAMPLE_ENGINE}), {@code --data} when not the default.
   */
  private String sameOptions() {
    String engine = System.getenv("BYOP_EXAMPLE_ENGINE");
    boolean other = engine != null && !engine.isBlank() && !engine.equals("docker20");
    StringBuilder o = new StringBuilder();
    if (other) o.append(" --engine ").append(engine);
    if (!dataDir.equals(Path.of(other ? "byop-data-" + engine : "byop-data"))) o.append(" --data ").append(dataDir);
    return o.toString();
  }

  /** The docker CLI as the example's own commands run it: against {@code --docker-host} when given. */
  private List<String> engineCli() {
    if (dockerHost == null) return docker;
    List<String> cli = new ArrayList<>(docker);
    cli.addAll(List.of("--host", dockerHost));
    return cli;
  }

  private static String shortHash(String text) {
    try {
      byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return java.util.HexFormat.of().formatHex(d, 0, 4);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always present", e);
    }
  }

  private void printProviders(Byop byop) {
    progress.step("Providers (found through ServiceLoader)");
    for (Byop.ProviderChoice c : byop.describeProviders()) {
      String chosen = c.id() != null ? c.id() + " (" + c.implementation() + ")"
          : c.kind() == Byop.Kind.REGISTRY ? "none (images stay in the local engine; set registry.address to push)"
          : c.kind() == Byop.Kind.CLOUD ? "none (only remote previews need one)"
          : "none";
      progress.info(String.format("%-9s %s", c.kind().section() + ":", chosen));
      if (c.id() != null && !c.detail().isEmpty() && !c.detail().equals("applicable")) {
        progress.info("          uses " + c.detail());
      }
      for (var r : c.passedOver()) progress.info("          passed over " + r.id() + ": " + r.reason());
    }
  }

  private boolean buildAll(BuildOrchestrator builds, App app, String commit, HostEnvironment host, Tracker tracker) {
    progress.step("Build & Push: every component of '" + app.id() + "'");
    List<BuildJob> requested = new ArrayList<>();
    for (Component c : app.components()) {
      Optional<BuildJob> earlier = builds.jobs(app.id(), 50).stream()
          .filter(j -> j.component().equals(c.name()) && j.status() == BuildStatus.SUCCESS
              && commit.equals(j.commit()) && j.image() != null)
          .findFirst();
      if (earlier.isPresent() && host.hasImage(earlier.get().image())) {
        progress.info(c.name() + ": image " + earlier.get().image() + " was built from this commit by job "
            + earlier.get().id() + " (reused, not built again)");
        continue;
      }
      BuildJob job = builds.requestBuild(app.id(), BuildConfig.builder().component(c.name()).build());
      tracker.name(job.id(), c.name());
      progress.info(c.name() + ": build job " + job.id() + " " + job.status());
      requested.add(job);
    }
    boolean ok = true;
    for (BuildJob job : requested) {
      BuildJob done = builds.await(job.id(), timeout);
      String name = tracker.label(job.id());
      if (done.status() == BuildStatus.SUCCESS) {
        progress.info(name + ": built " + done.image() + " in "
            + Progress.format(Duration.between(done.createdAt(), done.statusTime())));
      } else if (done.status().isTerminal()) {
        progress.info(name + ": " + done.status() + (done.error() == null ? "" : ": " + done.error()));
        ok = false;
      } else {
        progress.info(name + ": still " + done.status() + " after " + Progress.format(timeout) + "; giving up waiting");
        ok = false;
      }
    }
    progress.activity(null);
    if (!ok) out.println("failed: a build did not succeed; its log is above and in GET /builds/{id}/logs");
    return ok;
  }

  private int preview(PreviewManager previews, App app, String commit, HostEnvironment host, Tracker tracker) {
    progress.step("Preview of '" + app.id() + "'");
    Optional<Preview> current = previews.currentPreview(app.id()).filter(p -> p.status() != PreviewStatus.STOPPED);
    Preview p;
    if (current.isPresent() && current.get().status() == PreviewStatus.RUNNING
        && commit.equals(current.get().commit()) && host.previewContainersRunning(current.get().id())) {
      progress.info("preview " + current.get().id() + " already runs this commit (reused)");
      p = current.get();
    } else if (current.isPresent() && current.get().status().isInProgress()) {
      progress.info("preview " + current.get().id() + " was left " + current.get().status()
          + " by an earlier run; byop takes it up again");
      p = current.get();
    } else if (current.isPresent()) {
      progress.info("preview " + current.get().id() + " is " + current.get().status()
          + (commit.equals(current.get().commit()) ? " but its containers are gone" : " at another commit")
          + "; redeploying it for " + commit.substring(0, 12));
      p = previews.redeploy(current.get().id(), commit);
    } else {
      p = previews.createPreview(app.id(), commit);
      progress.info("preview " + p.id() + " " + p.status() + " (host name " + p.hostname() + ")");
    }
    tracker.name(p.id(), "preview");
    if (p.status() != PreviewStatus.RUNNING) p = previews.await(p.id(), timeout);
    progress.activity(null);
    if (p.status() != PreviewStatus.RUNNING) {
      out.println("failed: preview " + p.id() + " is " + p.status() + (p.error() == null ? "" : ": " + p.error()));
      return 1;
    }
    progress.step("Preview RUNNING");
    progress.info("URL:   " + p.url());
    URI url = p.url() == null ? null : URI.create(p.url());
    if (url != null && p.hostname() != null && url.getHost() != null && url.getHost().equals(p.hostname())) {
      String local = url.getScheme() + "://" + (p.address() == null ? "127.0.0.1" : p.address())
          + (url.getPort() > 0 ? ":" + url.getPort() : "") + "/";
      progress.info("try:   curl -H 'Host: " + p.hostname() + "' " + local
          + "   (or map " + p.hostname() + " to " + (p.address() == null ? "127.0.0.1" : p.address())
          + " in /etc/hosts)");
    }
    String same = sameOptions();
    progress.info("stop:  scripts/example stop" + same + "      API: scripts/example serve" + same + " --port 8080");
    return 0;
  }

  // ------------------------------------------------------------------------------------------------ other commands

  private int serve() throws ByopException {
    ApiToken token = ApiToken.loadOrCreate(dataDir);
    Byop byop = open(savedOrDetectedRouter(), new ByopListener() { }, "serve");
    CountDownLatch stopped = new CountDownLatch(1);
    try {
      ApiServer server = ApiServer.builder()
          .apps(byop.store())
          .gitPolicy(byop.config().gitPolicy())
          .builds(byop.orchestrator())
          .previews(byop.previews())
          .masking(byop::masked)
          .token(token)
          .address(new InetSocketAddress("127.0.0.1", port))
          .start();
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        server.close();
        byop.close();
        stopped.countDown();
      }, "shutdown"));
      progress.step("byop API on " + server.uri() + " (data in " + dataDir + "); Ctrl-C stops it");
      if (token.created()) {
        progress.info("API token (new; shown this once, kept in " + token.file() + "): " + token.value());
      } else {
        progress.info("API token: the one in " + token.file() + " (made by the first serve)");
      }
      progress.info("try:   curl -H \"Authorization: Bearer $(cat " + token.file() + ")\" " + server.uri() + "/apps");
      for (App a : byop.store().listApps()) {
        if (a.components().stream().anyMatch(c -> c.source().transport().equals("file"))) {
          progress.info("note:  app '" + a.id() + "' fetches a file:// repository, which this server refuses to build"
              + " (git.allowFile stays off: it would let every token holder read any repository on this machine);"
              + " serve it over git:// or https and create an app for that URL (README: the example API)");
        }
      }
      progress.close();
      stopped.await();
      return 0;
    } catch (java.io.IOException e) {
      byop.close();
      throw new MissingException("cannot listen on 127.0.0.1:" + port + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    }
  }

  /** The router the main job chose in this data directory (its previews were routed there), else one chosen now. */
  private HostEnvironment.@Nullable Router savedOrDetectedRouter() {
    if (configFile != null) return null;
    Optional<Map<String, Object>> saved = RouterChoice.load(dataDir);
    if (saved.isPresent()) return new HostEnvironment.Router(String.valueOf(saved.get().get("router")), saved.get(), "saved");
    HostEnvironment.Router r = new HostEnvironment(engineCli(), pull, progress).router(router);
    RouterChoice.save(dataDir, r.settings());
    return r;
  }

  private int providers() {
    try (Byop byop = open(null, new ByopListener() { }, "providers")) {
      printProviders(byop);
    }
    return 0;
  }

  private int stop() {
    try (Byop byop = open(savedOrDetectedRouter(), new ByopListener() { }, "stop")) {
      Optional<Preview> p = byop.previews().currentPreview(appId)
          .filter(x -> x.status() != PreviewStatus.STOPPED);
      if (p.isEmpty()) {
        progress.info("the sample app has no preview to stop");
        return 0;
      }
      progress.step("Stopping preview " + p.get().id());
      Preview stopped = byop.previews().deletePreview(p.get().id());
      progress.info("preview " + stopped.id() + " " + stopped.status());
      return 0;
    }
  }

  /** Turns byop's events into progress output, naming each job and preview by what it is for. */
  private final class Tracker implements ByopListener {
    private final Map<String, String> labels = new ConcurrentHashMap<>();

    void name(String ownerId, String label) {
      labels.put(ownerId, label);
    }

    String label(String ownerId) {
      return labels.getOrDefault(ownerId, ownerId);
    }

    @Override
    public void buildStatusChanged(BuildJob job, BuildStatus from) {
      String name = labels.getOrDefault(job.id(), job.component());
      progress.info(name + ": " + from + " -> " + job.status()
          + (job.error() == null ? "" : " (" + job.error() + ")"));
      switch (job.status()) {
        case FETCHING -> progress.activity(name + ": fetching the source");
        case BUILDING -> progress.activity(name + ": building the image");
        case PUSHING -> progress.activity(name + ": pushing the image");
        default -> progress.activity(null);
      }
    }

    @Override
    public void previewStatusChanged(Preview preview, PreviewStatus from) {
      progress.info("preview: " + from + " -> " + preview.status()
          + (preview.error() == null ? "" : " (" + preview.error() + ")"));
      switch (preview.status()) {
        case BUILDING -> progress.activity("preview: building the component images");
        case DEPLOYING -> progress.activity("preview: starting the containers and waiting for the URL");
        default -> progress.activity(null);
      }
    }

    @Override
    public void logLine(LogLine line) {
      String name = labels.get(line.ownerId());
      if (name != null) progress.log(name, line.text());
    }
  }
}
