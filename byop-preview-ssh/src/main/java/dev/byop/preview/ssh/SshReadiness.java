package dev.byop.preview.ssh;

import dev.byop.core.spi.CloudProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The readiness check over SSH of a host byop just provisioned: log in (its first-seen key recorded under
 * accept-new), wait for cloud-init to finish ({@code cloud-init status --wait}, when the host has it), then check
 * each requirement and name what is missing in a {@link HostNotReadyException}.
 *
 * <p>The checks run what the ssh deployer will run there ({@link Target}: its {@code preview.docker.remote} command
 * and its router):
 * <ul>
 *   <li>{@code docker}: {@code <docker> info} answers (the engine runs and the user may use it)
 *   <li>{@code compose}: {@code <docker> compose version} or {@code docker-compose version}
 *   <li>{@code router}: for Caddy (the default) {@code caddy version}; for Traefik its image is in the engine
 *       ({@code <docker> image inspect <traefik.image>}); the plain router needs nothing
 * </ul>
 */
final class SshReadiness implements HostReadiness {

  private static final Logger LOG = LoggerFactory.getLogger(SshReadiness.class);
  private static final Duration LOGIN_RETRY = Duration.ofMillis(500);

  private final List<String> requires;
  private final SshOptions options;
  private final Target target;

  /**
   * What the deployer will run on the host: its docker command and router, read from the {@code preview} section the
   * ssh deployer reads them from.
   *
   * @param docker the docker CLI invocation, e.g. {@code ["docker"]} or {@code ["sudo", "docker"]}
   * @param router {@code caddy}, {@code traefik} or {@code plain}
   * @param traefikImage the Traefik image the router starts (checked only for {@code traefik})
   */
  record Target(List<String> docker, String router, String traefikImage) {
    Target {
      docker = List.copyOf(docker);
      if (docker.isEmpty()) {
        throw new dev.byop.core.ValidationException("preview.docker.remote", docker, "must name a command");
      }
    }

    /** The ssh deployer's defaults: {@code docker}, Caddy. */
    static Target defaults() {
      return new Target(List.of("docker"), "caddy", dev.byop.preview.compose.TraefikRouter.Settings.defaults("byop").image());
    }

    /** Read from the configuration's {@code preview} section (unknown keys there are the deployer's to refuse). */
    static Target of(dev.byop.core.ByopConfig config) {
      dev.byop.core.Settings preview = config.section("preview");
      List<String> docker = preview.section("docker").strings("remote");
      String router;
      try {
        preview.section("router");
        router = "caddy"; // the router section configures the default Caddy
      } catch (dev.byop.core.ConfigException notASection) {
        router = preview.string("router").orElse("caddy");
      }
      String image = defaults().traefikImage();
      if (router.equals("traefik")) {
        image = preview.section("traefik").string("image", image);
      }
      return new Target(docker.isEmpty() ? List.of("docker") : docker, router, image);
    }
  }

  SshReadiness(List<String> requires, SshOptions options) {
    this(requires, options, Target.defaults());
  }

  SshReadiness(List<String> requires, SshOptions options, Target target) {
    this.requires = List.copyOf(requires);
    this.options = options;
    this.target = target;
  }

  private List<String> docker(String... args) {
    List<String> l = new ArrayList<>(target.docker());
    l.addAll(List.of(args));
    return l;
  }

  @Override
  public void await(CloudProvider.RemoteHost host, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    SshHost ssh = SshHost.of(host);
    String label = host.id() + " (" + ssh.label() + ")";
    try (SshConnections pool = new SshConnections(options)) {
      SshConnection c = login(pool, ssh, label, deadline);
      String cloudInit = cloudInit(c, deadline);
      Map<String, String> missing = missing(argv -> c.exec(argv, StdinSource.NONE, null, options.commandTimeout()));
      if (!missing.isEmpty()) {
        List<String> why = new ArrayList<>();
        missing.forEach((k, v) -> why.add(k + ": " + v));
        throw new HostNotReadyException(label, List.copyOf(missing.keySet()), String.join("; ", why) + "; " + cloudInit);
      }
      LOG.info("host {} is ready: {} present; {}", label, String.join(", ", requires), cloudInit);
    }
  }

  /** Logs in, again until the deadline while the host still sets up its users and keys; a refused host key is final. */
  private static SshConnection login(SshConnections pool, SshHost ssh, String label, long deadline) {
    while (true) {
      try {
        return pool.get(ssh);
      } catch (HostKeyRejectedException e) {
        throw e;
      } catch (SshException e) {
        if (System.nanoTime() + LOGIN_RETRY.toNanos() > deadline) {
          throw new HostNotReadyException(label, List.of("ssh"), "no SSH login within the bootstrap timeout: " + e.getMessage());
        }
        sleep(LOGIN_RETRY);
      }
    }
  }

  private static String cloudInit(SshConnection c, long deadline) {
    Duration left = Duration.ofNanos(Math.max(1_000_000_000L, deadline - System.nanoTime()));
    try {
      ExecResult r = c.exec(List.of("cloud-init", "status", "--wait"), StdinSource.NONE, null, left);
      if (r.exitCode() == 127) {
        return "no cloud-init on the host";
      }
      String status = (r.stdout() + " " + r.stderrTail()).replaceAll("\\s+", " ").strip();
      return "cloud-init " + (status.isEmpty() ? "exit " + r.exitCode() : status) + (r.exitCode() == 0 ? "" : " (exit " + r.exitCode() + ")");
    } catch (RemoteCommandException e) {
      return "cloud-init still running after the bootstrap timeout";
    }
  }

  /** Runs one check command on the host. */
  @FunctionalInterface
  interface Runner {
    ExecResult run(List<String> argv);
  }

  /** The missing requirements and what their check said, in check order. */
  Map<String, String> missing(Runner c) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String r : requires) {
      String problem = switch (r) {
        case "docker" -> check(c, docker("info", "--format", "{{.ServerVersion}}"));
        case "compose" -> {
          String v2 = check(c, docker("compose", "version"));
          yield v2 == null ? null : check(c, List.of("docker-compose", "version")) == null ? null : "neither docker compose nor docker-compose answers";
        }
        case "router" -> switch (target.router()) {
          case "traefik" -> check(c, docker("image", "inspect", "--format", "{{.Id}}", target.traefikImage()));
          case "plain" -> null;
          default -> check(c, List.of("caddy", "version"));
        };
        default -> "unknown requirement";
      };
      if (problem != null) {
        out.put(r, problem);
      }
    }
    return out;
  }

  /** Null when the command exits 0, else what went wrong, shortly. */
  private static String check(Runner c, List<String> argv) {
    try {
      ExecResult r = c.run(argv);
      if (r.ok()) {
        return null;
      }
      String err = r.stderrTail().strip();
      int nl = err.lastIndexOf('\n');
      String tail = nl >= 0 ? err.substring(nl + 1) : err;
      return String.join(" ", argv) + (r.exitCode() == 127 ? " not found" : " exited " + r.exitCode() + (tail.isEmpty() ? "" : ": " + tail));
    } catch (SshException e) {
      return String.join(" ", argv) + " failed: " + e.getMessage();
    }
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SshException("interrupted while waiting for a host to be ready", e);
    }
  }
}
