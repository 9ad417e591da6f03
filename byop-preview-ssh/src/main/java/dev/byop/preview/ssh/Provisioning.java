package dev.byop.preview.ssh;

import dev.byop.core.SecretRef;
import dev.byop.core.Settings;
import dev.byop.core.ValidationException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * How byop provisions, reaches, bootstraps and retires cloud instances; the same for every provider (OVH, Hetzner
 * Cloud), read from the same keys of the {@code cloud} section.
 *
 * @param owner byop's marker: instances carry it (Hetzner: label {@code byop-owner}; OVH, whose API v1 has neither
 *     tags nor metadata: the name {@code <namePrefix><owner>-<token>}); only instances carrying this installation's
 *     owner are ever adopted, used or deleted
 * @param namePrefix instance names start with this
 * @param user SSH login user on the instances
 * @param privateKey the private key the provider installs the public half of
 * @param knownHosts known_hosts file for the instances
 * @param acceptNewHostKey only for user data that is not {@code #cloud-config} (then required): record the first-seen
 *     key of an instance byop has just created. Otherwise byop makes an ed25519 host key for each instance, hands it
 *     over in the user data ({@code ssh_keys}, {@code ssh_deletekeys}) and pins it in known_hosts before the first
 *     login, whatever this says; adopted instances always need the key recorded then
 * @param capacity previews per instance
 * @param maxInstances most instances with byop's marker at once (created and adopted)
 * @param idleTimeout an empty instance is deleted once it has been empty this long (zero: at once)
 * @param readyTimeout how long an instance may take to become ACTIVE
 * @param pollInterval how often its state is polled
 * @param sshPort the SSH port of the instances
 * @param sshTimeout how long after ACTIVE the SSH port may take to answer
 * @param bootstrapTimeout how long the user data may take to make the host ready (docker, compose, router)
 * @param userData cloud-init user data passed at creation (byop's host key merged into {@code #cloud-config}), or
 *     null for none (byop then passes a {@code #cloud-config} holding only the host key)
 * @param requires what the readiness check needs on a new host: {@code docker}, {@code compose}, {@code router}
 * @param retry the API calls' retry policy
 */
public record Provisioning(String owner, String namePrefix, String user, SecretRef privateKey, String knownHosts,
    boolean acceptNewHostKey, int capacity, int maxInstances, Duration idleTimeout, Duration readyTimeout,
    Duration pollInterval, int sshPort, Duration sshTimeout, Duration bootstrapTimeout, @Nullable String userData,
    List<String> requires, CloudRetry retry) {

  /** The checks the readiness test knows. */
  public static final Set<String> CHECKS = Set.of("docker", "compose", "router");
  /** The keys every provisioning provider reads beside its own. */
  static final List<String> KEYS = List.of("owner", "namePrefix", "user", "privateKey", "knownHosts", "acceptNewHostKey",
      "capacity", "maxInstances", "idleTimeout", "readyTimeout", "pollInterval", "sshPort", "sshTimeout", "bootstrapTimeout",
      "userData", "requires", "retry");

  public Provisioning {
    if (owner == null || !owner.matches("[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?")) {
      throw new ValidationException("cloud.owner", owner, "must be 1 to 32 lower-case letters, digits or '-' (not at either end)");
    }
    if (namePrefix == null || !namePrefix.matches("[a-z][a-z0-9-]{0,19}")) {
      throw new ValidationException("cloud.namePrefix", namePrefix, "must be a lower-case letter then up to 19 lower-case letters, digits or '-'");
    }
    if (user == null || !user.matches("[a-z_][a-z0-9_-]{0,31}")) {
      throw new ValidationException("cloud.user", user, "must be a login name: lower-case letters, digits, '_' or '-'");
    }
    Objects.requireNonNull(privateKey, "privateKey");
    if (knownHosts == null || knownHosts.isBlank()) {
      throw new ValidationException("cloud.knownHosts", knownHosts, "is required: host keys are always verified");
    }
    if (capacity < 1) {
      throw new ValidationException("cloud.capacity", capacity, "must be at least 1");
    }
    if (maxInstances < 1) {
      throw new ValidationException("cloud.maxInstances", maxInstances, "must be at least 1");
    }
    for (var d : List.of(idleTimeout, readyTimeout, pollInterval, sshTimeout, bootstrapTimeout)) {
      if (d.isNegative()) {
        throw new ValidationException("cloud timeouts", d, "must not be negative");
      }
    }
    if (pollInterval.isZero()) {
      throw new ValidationException("cloud.pollInterval", pollInterval, "must be positive");
    }
    if (sshPort < 1 || sshPort > 65535) {
      throw new ValidationException("cloud.sshPort", sshPort, "must be between 1 and 65535");
    }
    requires = List.copyOf(requires);
    for (String r : requires) {
      if (!CHECKS.contains(r)) {
        throw new ValidationException("cloud.requires", r, "must be one of docker, compose, router");
      }
    }
    Objects.requireNonNull(retry, "retry");
    CloudUserData.check(userData, acceptNewHostKey);
  }

  /** The defaults beside the required values. */
  public static Provisioning of(String owner, String user, SecretRef privateKey, String knownHosts) {
    return new Provisioning(owner, "byop-", user, privateKey, knownHosts, false, 1, 3, Duration.ofMinutes(30),
        Duration.ofMinutes(10), Duration.ofSeconds(5), 22, Duration.ofMinutes(3), Duration.ofMinutes(10),
        defaultUserData(user), List.of("docker", "compose", "router"), CloudRetry.defaults());
  }

  public Provisioning withAcceptNewHostKey(boolean accept) {
    return new Provisioning(owner, namePrefix, user, privateKey, knownHosts, accept, capacity, maxInstances, idleTimeout,
        readyTimeout, pollInterval, sshPort, sshTimeout, bootstrapTimeout, userData, requires, retry);
  }

  public Provisioning withLimits(int capacity, int maxInstances, Duration idleTimeout) {
    return new Provisioning(owner, namePrefix, user, privateKey, knownHosts, acceptNewHostKey, capacity, maxInstances, idleTimeout,
        readyTimeout, pollInterval, sshPort, sshTimeout, bootstrapTimeout, userData, requires, retry);
  }

  public Provisioning withTimes(Duration readyTimeout, Duration pollInterval, int sshPort, Duration sshTimeout, Duration bootstrapTimeout) {
    return new Provisioning(owner, namePrefix, user, privateKey, knownHosts, acceptNewHostKey, capacity, maxInstances, idleTimeout,
        readyTimeout, pollInterval, sshPort, sshTimeout, bootstrapTimeout, userData, requires, retry);
  }

  public Provisioning withUserData(@Nullable String userData, List<String> requires) {
    return new Provisioning(owner, namePrefix, user, privateKey, knownHosts, acceptNewHostKey, capacity, maxInstances, idleTimeout,
        readyTimeout, pollInterval, sshPort, sshTimeout, bootstrapTimeout, userData, requires, retry);
  }

  Provisioning withRetry(CloudRetry retry) {
    return new Provisioning(owner, namePrefix, user, privateKey, knownHosts, acceptNewHostKey, capacity, maxInstances, idleTimeout,
        readyTimeout, pollInterval, sshPort, sshTimeout, bootstrapTimeout, userData, requires, retry);
  }

  /**
   * The built-in cloud-init user data: Docker Engine ({@code docker.io}), {@code docker-compose} and Caddy from a
   * Debian or Ubuntu image's own packages, started, with {@code user} in the {@code docker} group.
   */
  public static String defaultUserData(String user) {
    try (InputStream in = Provisioning.class.getResourceAsStream("cloud-init-default.yaml")) {
      if (in == null) {
        throw new IllegalStateException("cloud-init-default.yaml missing from byop-preview-ssh");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("${user}", user);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the built-in user data", e);
    }
  }

  /** Reads the common keys of a {@code cloud} section ({@link #KEYS}); {@code user} defaults to the image's usual login. */
  static Provisioning from(Settings s, String defaultUser) {
    try {
      String user = s.string("user", defaultUser);
      @Nullable String userData;
      String ud = s.string("userData", "builtin");
      if (ud.equals("builtin")) {
        userData = defaultUserData(user);
      } else if (ud.equals("none")) {
        userData = null;
      } else {
        try {
          userData = Files.readString(Path.of(ud), StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
          throw s.error("userData", "cannot read the user data file " + ud + " (" + e.getClass().getSimpleName() + ")");
        }
        if (userData.length() > 32 * 1024) {
          throw s.error("userData", "the user data file " + ud + " is larger than 32 KiB, the limit of the providers");
        }
      }
      Settings r = s.section("retry");
      r.allowOnly("attempts", "firstDelay", "maxDelay", "window", "requestTimeout");
      CloudRetry d = CloudRetry.defaults();
      CloudRetry retry = new CloudRetry(r.integer("attempts", d.attempts()), r.duration("firstDelay", d.firstDelay()),
          r.duration("maxDelay", d.maxDelay()), r.duration("window", d.window()), r.duration("requestTimeout", d.requestTimeout()));
      List<String> requires = s.has("requires") ? s.strings("requires") : List.of("docker", "compose", "router");
      return new Provisioning(s.requireString("owner"), s.string("namePrefix", "byop-"), user, s.requireSecret("privateKey"),
          s.requireString("knownHosts"), s.bool("acceptNewHostKey", false), s.integer("capacity", 1), s.integer("maxInstances", 3),
          s.duration("idleTimeout", Duration.ofMinutes(30)), s.duration("readyTimeout", Duration.ofMinutes(10)),
          s.duration("pollInterval", Duration.ofSeconds(5)), s.integer("sshPort", 22), s.duration("sshTimeout", Duration.ofMinutes(3)),
          s.duration("bootstrapTimeout", Duration.ofMinutes(10)), userData, requires, retry);
    } catch (ValidationException e) {
      String key = e.field().startsWith("cloud.") ? e.field().substring(6) : "provider";
      throw s.error(s.has(key) ? key : "provider", e.getMessage());
    }
  }
}
