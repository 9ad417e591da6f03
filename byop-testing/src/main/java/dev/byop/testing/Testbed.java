package dev.byop.testing;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * The peers of the running byop test bed, read from the env file that {@code scripts/testbed start} writes.
 *
 * <pre>{@code
 * Testbed bed = Testbed.get();
 * HttpRequest.newBuilder(bed.registry().baseUri().resolve("/v2/"))
 *     .header("Authorization", bed.registry().basicAuthorization());
 * try (TestDatabase db = bed.postgres().createDatabase("mytest")) { ... }
 * }</pre>
 *
 * <p>The file is found through the system property or environment variable {@value #ENV_PROPERTY}, else at
 * {@value #DEFAULT_ENV_FILE}. Every accessor fails with a {@link TestbedUnavailableException} naming the file and
 * key when the bed (or that part of it) is not up, so a test never silently skips.
 */
public final class Testbed {

  /** System property and environment variable that name another env file. */
  public static final String ENV_PROPERTY = "BYOP_TESTBED_ENV";

  /** Where {@code scripts/testbed} writes its env file. */
  public static final String DEFAULT_ENV_FILE = "/tmp/byop-testbed/env";

  private static final String START_HINT = "start the test bed with `scripts/testbed start` (as root, from the repository root)";

  private final Path file;
  private final Map<String, String> values;

  private Testbed(Path file, Map<String, String> values) {
    this.file = file;
    this.values = Map.copyOf(values);
  }

  /**
   * Reads the env file of the running test bed.
   *
   * @throws TestbedUnavailableException when the file is missing or unreadable
   */
  public static Testbed get() {
    return load(envFile());
  }

  /** The env file {@link #get()} reads. */
  public static Path envFile() {
    String configured = System.getProperty(ENV_PROPERTY);
    if (configured == null || configured.isBlank()) {
      configured = System.getenv(ENV_PROPERTY);
    }
    return Path.of(configured == null || configured.isBlank() ? DEFAULT_ENV_FILE : configured);
  }

  /**
   * Reads a test bed env file: one {@code KEY=VALUE} per line, blank lines and {@code #} comments ignored.
   *
   * @throws TestbedUnavailableException when the file is missing or unreadable
   */
  public static Testbed load(Path envFile) {
    List<String> lines;
    try {
      lines = Files.readAllLines(envFile, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new TestbedUnavailableException(
          "byop test bed is not up: " + envFile + " does not exist; " + START_HINT
              + " or point " + ENV_PROPERTY + " at its env file", e);
    } catch (IOException e) {
      throw new TestbedUnavailableException(
          "byop test bed env file " + envFile + " cannot be read (" + e + "); " + START_HINT, e);
    }
    Map<String, String> values = new LinkedHashMap<>();
    for (String line : lines) {
      String trimmed = line.strip();
      if (trimmed.isEmpty() || trimmed.startsWith("#")) {
        continue;
      }
      int eq = trimmed.indexOf('=');
      if (eq <= 0) {
        throw new TestbedUnavailableException(
            "byop test bed env file " + envFile + " has a line that is not KEY=VALUE: '" + trimmed + "'; " + START_HINT);
      }
      values.put(trimmed.substring(0, eq), trimmed.substring(eq + 1));
    }
    return new Testbed(envFile, values);
  }

  /** The env file these values came from. */
  public Path file() {
    return file;
  }

  /** The raw value of a key, failing clearly when the bed did not write it. */
  public String value(String key) {
    String v = values.get(key);
    if (v == null || v.isEmpty()) {
      throw new TestbedUnavailableException(
          "byop test bed env file " + file + " has no " + key + " (that part of the bed is not up); " + START_HINT);
    }
    return v;
  }

  /** The raw value of a key, if present. */
  public Optional<String> find(String key) {
    return Optional.ofNullable(values.get(key)).filter(v -> !v.isEmpty());
  }

  private int intValue(String key) {
    String v = value(key);
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new TestbedUnavailableException("byop test bed env file " + file + ": " + key + "='" + v + "' is not a number", e);
    }
  }

  /** The bed's state directory ({@code /tmp/byop-testbed}). */
  public Path stateDir() {
    return Path.of(value("TESTBED_DIR"));
  }

  /** The local Docker Engine, e.g. {@code unix:///var/run/docker.sock}. */
  public String dockerHost() {
    return value("DOCKER_HOST");
  }

  /** The Unix socket of the local Docker Engine. */
  public Path dockerSocket() {
    return unixSocket("DOCKER_HOST");
  }

  /** The Docker CLI that matches the engine ({@code /usr/bin/docker}, 20.10). */
  public Path dockerCli() {
    return Path.of(value("DOCKER_CLI"));
  }

  /** The base image every test image builds {@code FROM} ({@code byop-test/busybox:1}); present on every engine. */
  public String baseImage() {
    return value("BASE_IMAGE");
  }

  /** The OCI registry (htpasswd auth) on loopback. */
  public Registry registry() {
    return new Registry(value("REGISTRY"), value("REGISTRY_USER"), value("REGISTRY_PASSWORD"));
  }

  /**
   * Where a test runs a fake registry of its own that {@code engine} (and its BuildKit) speaks plain HTTP to:
   * {@code <engine.hostAddress()>:<port>} on the one port every engine of the bed names insecure (a 26.1 engine's
   * BuildKit would speak HTTPS to any other non-loopback registry). One such registry per engine at a time.
   */
  public java.net.InetSocketAddress fakeRegistryAddress(Engine engine) {
    return new java.net.InetSocketAddress(engine.hostAddress(), intValue("FAKE_REGISTRY_PORT"));
  }

  /** The bed's own PostgreSQL 15 cluster. */
  public Postgres postgres() {
    return new Postgres(value("PG_HOST"), intValue("PG_PORT"), value("PG_DATABASE"), value("PG_JDBC_URL"),
        value("PG_USER"), value("PG_PASSWORD"));
  }

  /** The {@code pgbench} binary matching the cluster. */
  public Path pgbench() {
    return Path.of(value("PGBENCH"));
  }

  /** Caddy: admin API and its HTTP listener (server {@link Caddy#serverName()}). */
  public Caddy caddy() {
    return new Caddy(URI.create(value("CADDY_ADMIN")), URI.create(value("CADDY_HTTP")), value("CADDY_SERVER"),
        Path.of(value("CADDY_BIN")));
  }

  /** The sshd on loopback (port 2222) that logs into this machine; its Docker host is the local engine. */
  public SshHost ssh() {
    return new SshHost("local", value("SSH_HOST"), intValue("SSH_PORT"), value("SSH_USER"), Path.of(value("SSH_KEY")),
        Path.of(value("SSH_KNOWN_HOSTS")), value("DOCKER_HOST"), value("REGISTRY"));
  }

  /**
   * A "remote VPS" host: its own network namespace, address, sshd, user and Docker Engine.
   *
   * @param n 1 or 2
   */
  public SshHost vps(int n) {
    if (n < 1 || n > 2) {
      throw new IllegalArgumentException("VPS host number " + n + " does not exist: the test bed has hosts 1 and 2");
    }
    String p = "VPS" + n + "_";
    return new SshHost("vps" + n, value(p + "ADDRESS"), intValue(p + "SSH_PORT"), value(p + "USER"),
        Path.of(value("TESTBED_KEY")), Path.of(value("TESTBED_KNOWN_HOSTS")), value(p + "DOCKER_HOST"),
        value(p + "REGISTRY"));
  }

  /**
   * The engine VPS host {@code n} runs: {@value Engine#DOCKER20}, or {@value Engine#DOCKER26_CONTAINERD} for VPS 2
   * when the bed started the modern engines.
   */
  public String vpsEngine(int n) {
    vps(n);
    return find("VPS" + n + "_ENGINE").orElse(Engine.DOCKER20);
  }

  /** Both VPS hosts. */
  public List<SshHost> vpsHosts() {
    return List.of(vps(1), vps(2));
  }

  /** System property and environment variable that limit {@link #engines()} to some names, e.g. {@code docker26}. */
  public static final String ENGINES_PROPERTY = "BYOP_TEST_ENGINES";

  /** The bed's first engine: Docker 20.10 (classic store) with Compose v1, on this machine's loopback. */
  public Engine docker20() {
    return new Engine(Engine.DOCKER20, value("DOCKER_HOST"), Path.of(value("DOCKER_CLI")), null,
        List.of(find("COMPOSE_V1").orElse("docker-compose")), value("REGISTRY"), "127.0.0.1", false);
  }

  /** Docker 26.1 with the classic image store and Compose v2 ({@code scripts/testbed start --modern}). */
  public Engine docker26() {
    return modern(Engine.DOCKER26, "DOCKER26_", false);
  }

  /** Docker 26.1 with the containerd image store and Compose v2 ({@code scripts/testbed start --modern}). */
  public Engine docker26Containerd() {
    return modern(Engine.DOCKER26_CONTAINERD, "DOCKER26_CONTAINERD_", true);
  }

  private Engine modern(String name, String prefix, boolean containerdStore) {
    List<String> compose = List.of(value("COMPOSE_V2").split(" "));
    return new Engine(name, value(prefix + "HOST"), Path.of(value("DOCKER26_CLI")), Path.of(value("DOCKER26_CONFIG")),
        compose, value(prefix + "REGISTRY"), value(prefix + "ADDRESS"), containerdStore);
  }

  /**
   * The engines of the matrix this bed offers: 20.10 always, the 26.1 ones when the bed started them, limited to the
   * names listed (comma-separated) in {@value #ENGINES_PROPERTY} when set. Fails when that list names an engine the
   * bed did not start, so a requested engine is never silently left out.
   */
  public List<Engine> engines() {
    List<Engine> all = new ArrayList<>(List.of(docker20()));
    if (find("DOCKER26_HOST").isPresent()) all.add(docker26());
    if (find("DOCKER26_CONTAINERD_HOST").isPresent()) all.add(docker26Containerd());
    String wanted = System.getProperty(ENGINES_PROPERTY);
    if (wanted == null || wanted.isBlank()) wanted = System.getenv(ENGINES_PROPERTY);
    if (wanted == null || wanted.isBlank()) return List.copyOf(all);
    List<Engine> picked = new ArrayList<>();
    for (String w : wanted.split(",")) {
      String n = w.strip();
      if (n.isEmpty()) continue;
      Engine e = all.stream().filter(x -> x.name().equals(n)).findFirst().orElseThrow(() -> new TestbedUnavailableException(
          ENGINES_PROPERTY + " names engine '" + n + "', but the bed (" + file + ") offers "
              + all.stream().map(Engine::name).toList() + "; start the modern ones with `scripts/testbed start --modern`"));
      picked.add(e);
    }
    return List.copyOf(picked);
  }

  /** The private key (ed25519) every bed sshd accepts. */
  public Path privateKey() {
    return Path.of(value("TESTBED_KEY"));
  }

  /** The known_hosts file listing every bed sshd's host key. */
  public Path knownHosts() {
    return Path.of(value("TESTBED_KNOWN_HOSTS"));
  }

  private Path unixSocket(String key) {
    String v = value(key);
    if (!v.startsWith("unix://")) {
      throw new TestbedUnavailableException("byop test bed env file " + file + ": " + key + "='" + v + "' is not a unix:// address");
    }
    return Path.of(v.substring("unix://".length()));
  }

  @Override
  public String toString() {
    return "Testbed[" + file + "]";
  }

  /** The bed's OCI registry; {@link #toString()} hides the password. */
  public record Registry(String address, String user, String password) {

    /** {@code http://address}, e.g. for {@code /v2/}. */
    public URI baseUri() {
      return URI.create("http://" + address);
    }

    /** The value of an {@code Authorization: Basic …} header for the bed's user. */
    public String basicAuthorization() {
      return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
      return "Registry[address=" + address + ", user=" + user + ", password=****]";
    }
  }

  /** The bed's PostgreSQL cluster; {@link #toString()} hides the password. */
  public record Postgres(String host, int port, String database, String jdbcUrl, String user, String password) {

    /** Opens a connection to the bed's {@code byop} database. */
    public Connection connect() throws SQLException {
      return connect(jdbcUrl);
    }

    Connection connect(String url) throws SQLException {
      Properties props = new Properties();
      props.setProperty("user", user);
      props.setProperty("password", password);
      return DriverManager.getConnection(url, props);
    }

    /** The JDBC URL of another database in this cluster. */
    public String jdbcUrl(String databaseName) {
      return "jdbc:postgresql://" + host + ":" + port + "/" + databaseName;
    }

    /**
     * Creates a fresh, empty database owned by the bed's user; closing the result drops it.
     *
     * @param hint a readable part of the name (e.g. the test class); anything but {@code [a-z0-9_]} is dropped
     */
    public TestDatabase createDatabase(String hint) {
      String name = databaseName(hint);
      try (Connection c = connect(); var st = c.createStatement()) {
        // the name is built from [a-z0-9_] only, so it needs no quoting beyond this
        st.execute("CREATE DATABASE " + name + " OWNER " + user);
      } catch (SQLException e) {
        throw new TestbedUnavailableException("cannot create test database " + name + " on " + jdbcUrl + ": " + e.getMessage(), e);
      }
      return new TestDatabase(this, name);
    }

    static String databaseName(String hint) {
      String clean = hint.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "");
      if (clean.length() > 40) {
        clean = clean.substring(0, 40);
      }
      String suffix = Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36);
      return "t_" + clean + "_" + suffix;
    }

    @Override
    public String toString() {
      return "Postgres[" + jdbcUrl + ", user=" + user + ", password=****]";
    }
  }

  /** Caddy: the admin API, the HTTP listener tests route through, the name of its server, and its binary. */
  public record Caddy(URI adminUri, URI httpUri, String serverName, Path binary) {

    /** The admin API path of the bed server's route list (POST appends a route). */
    public URI routesUri() {
      return adminUri.resolve("/config/apps/http/servers/" + serverName + "/routes");
    }
  }

  /**
   * One Docker Engine of the bed's matrix, with the CLI and Compose that go with it.
   *
   * @param name {@value #DOCKER20}, {@value #DOCKER26} or {@value #DOCKER26_CONTAINERD}; also its JUnit display name
   * @param dockerHost its socket, e.g. {@code unix:///var/run/docker.sock}
   * @param cli the docker CLI of its release
   * @param cliConfig the {@code DOCKER_CONFIG} directory its CLI needs to find Compose v2 and buildx, or null
   * @param compose the compose command (argument list): {@code docker-compose} (v1) or {@code docker compose} (v2)
   * @param registry the bed registry's address as this engine reaches it (a 26.1 engine lives in its own network
   *     namespace: its loopback is not this machine's)
   * @param address where ports it publishes are reachable from this machine: publish on this address
   * @param containerdStore whether it uses the containerd image store
   */
  public record Engine(String name, String dockerHost, Path cli, @Nullable Path cliConfig, List<String> compose,
      String registry, String address, boolean containerdStore) {

    /** Docker 20.10, classic store, Compose v1. */
    public static final String DOCKER20 = "docker20";
    /** Docker 26.1, classic store, Compose v2. */
    public static final String DOCKER26 = "docker26";
    /** Docker 26.1, containerd store, Compose v2. */
    public static final String DOCKER26_CONTAINERD = "docker26-containerd";

    public Engine {
      compose = List.copyOf(compose);
    }

    /** Its socket as a local path. */
    public Path dockerSocket() {
      return Path.of(dockerHost.substring("unix://".length()));
    }

    /**
     * This machine's address as the engine (and its build steps) reach it, e.g. for a {@code git daemon} a build
     * fetches from: listen there. The registry listens on it too.
     */
    public String hostAddress() {
      return registry.substring(0, registry.lastIndexOf(':'));
    }

    /** Whether its Compose is v2 (the {@code docker compose} plugin). */
    public boolean composeV2() {
      return compose.size() > 1 && compose.get(compose.size() - 1).equals("compose");
    }

    /** The environment its CLI and Compose need: {@code DOCKER_HOST}, and {@code DOCKER_CONFIG} when set. */
    public Map<String, String> environment() {
      return cliConfig == null ? Map.of("DOCKER_HOST", dockerHost)
          : Map.of("DOCKER_HOST", dockerHost, "DOCKER_CONFIG", cliConfig.toString());
    }

    @Override
    public String toString() {
      return name;
    }
  }

  /**
   * An sshd of the bed and the Docker Engine and registry address as seen from that host.
   *
   * @param name "local", "vps1" or "vps2"
   * @param dockerHost the host's engine, e.g. {@code unix:///tmp/byop-testbed/vps1/docker.sock}; sessions on
   *     that host have it as {@code DOCKER_HOST}, and it is reachable from this machine too
   * @param registry the bed registry's address as that host reaches it
   */
  public record SshHost(String name, String address, int port, String user, Path privateKey, Path knownHosts,
      String dockerHost, String registry) {

    /**
     * An OpenSSH client command (argument list) that runs {@code remote} there with the host key checked.
     * Each element of {@code remote} is one word of the remote command line, so callers quote.
     */
    public List<String> sshCommand(String... remote) {
      List<String> cmd = new ArrayList<>(List.of("ssh", "-F", "/dev/null", "-o", "BatchMode=yes",
          "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + knownHosts,
          "-o", "IdentitiesOnly=yes", "-i", privateKey.toString(), "-p", Integer.toString(port),
          "-l", user, address, "--"));
      cmd.addAll(List.of(remote));
      return cmd;
    }

    /** The host's Docker socket as a local path (the namespace hosts share this file system). */
    public @Nullable Path dockerSocket() {
      return dockerHost.startsWith("unix://") ? Path.of(dockerHost.substring("unix://".length())) : null;
    }
  }
}
