package dev.byop.buildkit;

import dev.byop.buildkit.internal.GitCredentialScopes;
import dev.byop.buildkit.internal.GitFetcher;
import dev.byop.core.Credentials;
import dev.byop.core.Settings;
import dev.byop.core.auth.CredentialResolver;
import dev.byop.core.spi.Applicability;
import dev.byop.core.spi.ImageBuilder;
import dev.byop.core.spi.ImageBuilderFactory;
import dev.byop.core.spi.ProviderContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Makes the BuildKit {@link ImageBuilder} (id {@code buildkit}). Configuration section {@code builder}:
 *
 * <pre>{@code
 * builder:
 *   provider: buildkit
 *   endpoint: docker              # or docker+unix:///path, unix:///run/buildkit/buildkitd.sock, tcp://host:1234
 *   tls: { ca: ca.pem, cert: cert.pem, key: key.pem, serverName: buildkitd }   # tcp:// only
 *   git:
 *     sshKey: /keys/id_ed25519          # the default SSH identity; known_hosts is always verified
 *     knownHosts: /keys/known_hosts
 *     binary: git
 *     credentials:                      # sent only to URLs under match (scheme, host, port, whole path segments)
 *       - { match: "https://git.example.com/acme/", username: ci, token: { env: GIT_TOKEN } }
 *       - { match: "ssh://git.example.com/", sshKey: /keys/acme_ed25519 }
 *     appSecrets: /run/byop/app-secrets # an app's own token is a {file: NAME} under <appSecrets>/<app id>/
 *     # older form, still read: one token for one host
 *     # username: ci, token: { env: GIT_TOKEN }, host: git.example.com
 *   dockerConfig: ~/.docker/config.json   # registry credentials for base images and pushes
 *   registryAuth: [ registry.acme.dev, "10.0.0.5:5000" ]   # base-image registries that may get credentials
 * }</pre>
 *
 * <p>The daemon asks for registry credentials for every host a Dockerfile names. A build's Dockerfile is the user's,
 * so credentials go only to the configured push registry ({@code registry.address}) and to the hosts listed in
 * {@code registryAuth} ({@code host} or {@code host:port}; {@code docker.io} for Docker Hub); every other host gets
 * none, whatever {@code dockerConfig} holds.
 */
public final class BuildKitImageBuilderFactory implements ImageBuilderFactory {
  @Override
  public String id() {
    return "buildkit";
  }

  @Override
  public int priority() {
    return 100;
  }

  @Override
  public Applicability applicability(ProviderContext context) {
    BuildKitEndpoint ep;
    try {
      ep = endpoint(context.settings());
    } catch (RuntimeException e) {
      return Applicability.no(e.getMessage());
    }
    if (ep.kind() == BuildKitEndpoint.Kind.DOCKER && ep.engine() != null && !ep.engine().isTcp()
        && !Files.exists(ep.engine().socketPath())) {
      return Applicability.no("Docker socket " + ep.engine().socketPath() + " does not exist");
    }
    if (ep.kind() == BuildKitEndpoint.Kind.UNIX && ep.uri() != null && !Files.exists(Path.of(ep.uri().getPath()))) {
      return Applicability.no("buildkitd socket " + ep.uri().getPath() + " does not exist");
    }
    if (ep.kind() == BuildKitEndpoint.Kind.DOCKER && context.settings().string("endpoint", "docker").trim()
        .equals("docker")) {
      // found as the Docker CLI finds it: the report says which engine and why
      return Applicability.yes("BuildKit of the Docker Engine at " + dev.byop.docker.DockerDiscovery.discover());
    }
    return Applicability.yes("BuildKit at " + ep);
  }

  @Override
  public ImageBuilder create(ProviderContext context) {
    Settings s = context.settings();
    s.allowOnly("provider", "endpoint", "tls", "git", "dockerConfig", "registryAuth");
    Set<String> baseRegistries = registryAuth(s);
    BuildKitEndpoint ep = endpoint(s);
    Settings g = s.section("git");
    g.allowOnly("sshKey", "knownHosts", "binary", "username", "token", "host", "credentials", "appSecrets");
    GitCredentialScopes gitCredentials = GitCredentialScopes.from(g);
    Path root = context.dataDir().resolve("buildkit");
    GitFetcher git = new GitFetcher(root.resolve("git-cache"), root.resolve("jobs"), context.config().gitPolicy(),
        path(g, "sshKey"), path(g, "knownHosts"), g.string("binary", "git"));
    // the registry section's explicit credentials first, then the Docker config (helpers included)
    CredentialResolver.Builder rb = CredentialResolver.builder().settings(context.config().section("registry"));
    s.string("dockerConfig").ifPresent(p -> rb.dockerConfig(Path.of(p)));
    CredentialResolver resolver = rb.build();
    Set<String> pushRegistries = new LinkedHashSet<>();
    context.config().section("registry").string("address").filter(a -> !a.isBlank())
        .ifPresent(a -> pushRegistries.add(CredentialResolver.normalize(a)));
    Set<String> allowed = new LinkedHashSet<>(pushRegistries);
    allowed.addAll(baseRegistries);
    // direct builds through client() get the same scope: nothing for a host the configuration does not name
    Function<String, Optional<Credentials>> scoped = h -> allowed.contains(CredentialResolver.normalize(h))
        ? resolver.resolve(h) : Optional.empty();
    return new BuildKitImageBuilder(BuildKitClient.connect(ep, scoped), git, resolver::resolve,
        gitCredentials, pushRegistries, baseRegistries);
  }

  private static final Pattern REGISTRY_HOST = Pattern.compile(
      "[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,5})?");

  /** {@code builder.registryAuth}: registry hosts ({@code host[:port]}), normalized as credential lookups are. */
  static Set<String> registryAuth(Settings s) {
    Set<String> out = new LinkedHashSet<>();
    for (String h : s.strings("registryAuth")) {
      if (!REGISTRY_HOST.matcher(h).matches()) {
        throw s.error("registryAuth", "'" + h + "' is not a registry host (host or host:port, no scheme or path)");
      }
      out.add(CredentialResolver.normalize(h));
    }
    return out;
  }

  private static @Nullable Path path(Settings s, String key) {
    return s.string(key).map(Path::of).orElse(null);
  }

  static BuildKitEndpoint endpoint(Settings s) {
    BuildKitEndpoint.Tls tls = null;
    if (s.has("tls")) {
      Settings t = s.section("tls");
      t.allowOnly("ca", "cert", "key", "serverName");
      tls = new BuildKitEndpoint.Tls(path(t, "ca"), path(t, "cert"), path(t, "key"), t.string("serverName").orElse(null));
    }
    return BuildKitEndpoint.parse(s.string("endpoint", "docker"), tls);
  }
}
