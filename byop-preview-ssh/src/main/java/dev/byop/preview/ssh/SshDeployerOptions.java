package dev.byop.preview.ssh;

import dev.byop.core.ValidationException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Settings of the SSH preview deployer.
 *
 * @param baseDir where preview directories live on the host; relative paths are under the login user's home
 *     (default {@code byop/previews}, i.e. {@code ~/byop/previews/<id>})
 * @param domain the remote domain previews are served under, e.g. {@code preview.example.com}
 * @param scheme {@code http}, the scheme of the URL handed out (the routers serve http; {@code https} is refused
 *     until a router hands out https URLs)
 * @param acquireWait how long to wait for a host slot
 * @param readyTimeout how long the URL may take to answer after {@code compose up}
 * @param remoteDocker the docker CLI invocation on hosts
 * @param stopTimeout how long components get to stop before they are killed, on tear-down and when a redeploy replaces them
 * @param instance the {@code dev.byop.instance} label value, so byop installations sharing a host tell their resources apart
 */
public record SshDeployerOptions(String baseDir, String domain, String scheme, Duration acquireWait, Duration readyTimeout,
    List<String> remoteDocker, Duration stopTimeout, String instance) {

  public SshDeployerOptions {
    Objects.requireNonNull(baseDir, "baseDir");
    Objects.requireNonNull(domain, "domain");
    if (baseDir.isBlank() || baseDir.contains("..") || baseDir.chars().anyMatch(c -> c < ' ')) {
      throw new ValidationException("preview.baseDir", baseDir, "must be a plain path without '..' or control characters");
    }
    if (!domain.matches("[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+")) {
      throw new ValidationException("preview.domain", domain, "must be a lower-case DNS name with at least two labels");
    }
    if (!scheme.equals("http")) {
      throw new ValidationException("preview.scheme", scheme,
          "must be http: preview URLs come from the router (Caddy or Traefik), which hands out http URLs");
    }
    remoteDocker = List.copyOf(remoteDocker);
    Objects.requireNonNull(stopTimeout, "stopTimeout");
    if (instance == null || instance.isBlank()) {
      throw new ValidationException("preview.instance", instance, "must not be blank");
    }
  }

  /** {@code ~/byop/previews}, http, 2 minutes to get a host, 2 minutes to answer, {@code docker}, 10 s to stop. */
  public static SshDeployerOptions of(String domain) {
    return new SshDeployerOptions("byop/previews", domain, "http", Duration.ofMinutes(2), Duration.ofMinutes(2), List.of("docker"), Duration.ofSeconds(10), "byop");
  }

  /** Copy with another base directory. */
  public SshDeployerOptions withBaseDir(String dir) {
    return new SshDeployerOptions(dir, domain, scheme, acquireWait, readyTimeout, remoteDocker, stopTimeout, instance);
  }

  /** Copy with another wait for a host slot. */
  public SshDeployerOptions withAcquireWait(Duration d) {
    return new SshDeployerOptions(baseDir, domain, scheme, d, readyTimeout, remoteDocker, stopTimeout, instance);
  }

  /** Copy with another readiness timeout. */
  public SshDeployerOptions withReadyTimeout(Duration d) {
    return new SshDeployerOptions(baseDir, domain, scheme, acquireWait, d, remoteDocker, stopTimeout, instance);
  }

  /** Copy with another stop timeout. */
  public SshDeployerOptions withStopTimeout(Duration d) {
    return new SshDeployerOptions(baseDir, domain, scheme, acquireWait, readyTimeout, remoteDocker, d, instance);
  }

  /** Copy with another instance label. */
  public SshDeployerOptions withInstance(String name) {
    return new SshDeployerOptions(baseDir, domain, scheme, acquireWait, readyTimeout, remoteDocker, stopTimeout, name);
  }
}
