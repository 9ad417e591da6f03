package dev.byop.preview.local;

import dev.byop.core.ImageReference;
import dev.byop.core.Preview;
import dev.byop.core.PreviewException;
import dev.byop.core.SecretRef;
import dev.byop.core.ValidationException;
import dev.byop.core.internal.Checks;
import dev.byop.core.spi.JobContext;
import dev.byop.core.spi.LogSink;
import dev.byop.core.spi.PreviewDeployer.DeployRequest;
import dev.byop.preview.compose.CommandResult;
import dev.byop.preview.compose.Placement;
import dev.byop.preview.compose.PreviewHost;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * The one local host as a {@link Placement}: every preview runs on this machine's engine. An image is delivered when
 * the engine has it already (a build into the local engine), else it is pulled (a build that pushed to a registry
 * may leave no local image); the pull of an image of the configured registry gets its credentials from a
 * {@code DOCKER_CONFIG} made for that pull alone ({@code 0600} in a {@code 0700} directory, removed right after),
 * never on a command line.
 */
public final class LocalPlacement implements Placement {
  private final LocalHost host;
  private final @Nullable RegistryLogin login;
  private final Duration pullTimeout;

  /**
   * Credentials for pulls from one registry.
   *
   * @param address the registry as image names carry it, e.g. {@code 127.0.0.1:5000}
   * @param username the user
   * @param password a reference to the password, resolved at each pull
   */
  public record RegistryLogin(String address, String username, SecretRef password) {
    public RegistryLogin {
      if (address == null || !address.matches("[A-Za-z0-9.-]+(:[0-9]{1,5})?")) {
        throw new ValidationException("registry.address", Checks.printable(address), "must be host[:port]");
      }
      Checks.notBlank("registry.username", username);
      Checks.singleLine("registry.username", username);
      Checks.notNull("registry.password", password);
    }
  }

  /**
   * @param host this machine
   * @param login credentials for pulls from the registry builds push to, or null for anonymous pulls
   * @param pullTimeout how long one pull may take
   */
  public LocalPlacement(LocalHost host, @Nullable RegistryLogin login, Duration pullTimeout) {
    this.host = host;
    this.login = login;
    this.pullTimeout = pullTimeout;
  }

  /** The one host. */
  public LocalHost host() {
    return host;
  }

  /** The name the engine stores an image under (a tagged image is run by tag, without its digest). */
  static String engineName(ImageReference ref) {
    return ref.tag() != null ? ref.withoutDigest().familiar() : ref.familiar();
  }

  @Override
  public Placed place(DeployRequest request, JobContext context) {
    Map<String, String> images = new LinkedHashMap<>();
    for (Map.Entry<String, ImageReference> e : request.images().entrySet()) {
      context.cancellation().throwIfCancelled();
      String name = engineName(e.getValue());
      if (!has(name)) pull(e.getKey(), e.getValue(), name, context);
      images.put(e.getKey(), name);
    }
    return new Placed(host, images);
  }

  /** Whether the engine has the image; an engine that cannot be asked is an error saying so, not a missing image. */
  private boolean has(String image) {
    CommandResult r = host.run(cmd("image", "inspect", "--format", "{{.Id}}", image), LogSink.discard(),
        Duration.ofMinutes(1));
    if (r.ok()) return true;
    if (r.output().stream().anyMatch(l -> l.toLowerCase(java.util.Locale.ROOT).contains("no such image"))) return false;
    throw new PreviewException("cannot ask the Docker engine of " + host.id() + " (" + String.join(" ", host.docker())
        + ") for image " + image + ": exit code " + r.exitCode() + ": " + r.tail(3));
  }

  private void pull(String component, ImageReference ref, String name, JobContext context) {
    boolean withLogin = login != null && login.address().equals(ref.registry());
    context.log().line("pulling " + name + (withLogin ? " with the credentials of " + login.address() : ""));
    CommandResult r;
    if (!withLogin) {
      r = host.run(cmd("pull", name), context.log(), pullTimeout, context.cancellation());
    } else {
      Path config = null;
      try {
        config = Files.createTempDirectory("byop-pull-", PosixFilePermissions.asFileAttribute(
            PosixFilePermissions.fromString("rwx------")));
        String auth = Base64.getEncoder().encodeToString((login.username() + ":" + login.password().resolve().reveal())
            .getBytes(StandardCharsets.UTF_8));
        // JSON by hand: the values are a host[:port] (checked) and base64
        byte[] json = ("{\"auths\":{\"" + login.address() + "\":{\"auth\":\"" + auth + "\"}}}")
            .getBytes(StandardCharsets.UTF_8);
        Path file = config.resolve("config.json");
        Files.write(Files.createFile(file, PosixFilePermissions.asFileAttribute(
            PosixFilePermissions.fromString("rw-------"))), json);
        r = host.withEnvironment(Map.of("DOCKER_CONFIG", config.toString()))
            .run(cmd("pull", name), context.log(), pullTimeout, context.cancellation());
      } catch (IOException e) {
        throw new PreviewException("cannot prepare the credentials to pull " + name + ": " + e.getMessage(), e);
      } finally {
        if (config != null) deleteTree(config);
      }
    }
    if (!r.ok()) {
      throw new PreviewException("image " + name + " of component '" + component + "' is not in the local engine and "
          + "pulling it failed with exit code " + r.exitCode() + ": " + r.tail(3));
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(f);
    } catch (IOException e) {
      // a temporary directory of ours; the next boot's tmp clean-up takes what is left
    }
  }

  private List<String> cmd(String... args) {
    List<String> l = new ArrayList<>(host.docker());
    l.addAll(List.of(args));
    return l;
  }

  @Override
  public Optional<PreviewHost> hostOf(Preview preview) {
    return Optional.of(host);
  }

  @Override
  public Map<PreviewHost, Set<String>> hosts() {
    return Map.of(host, Set.of());
  }

  @Override
  public void release(String previewId) { }
}
