package dev.byop.registry;

import dev.byop.core.Credentials;
import dev.byop.core.ImageReference;
import dev.byop.core.RegistryException;
import dev.byop.core.Settings;
import dev.byop.core.ValidationException;
import dev.byop.core.auth.CredentialResolver;
import dev.byop.core.spi.JobContext;
import dev.byop.core.spi.RegistryClient;
import dev.byop.registry.internal.EnginePusher;
import dev.byop.registry.internal.ImagePusher;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * byop's {@link RegistryClient}: pushes through the Docker Engine that holds the built image (the seed's
 * {@code PushImage}, {@code POST /images/{name}/push} with {@code X-Registry-Auth}, progress into the job log), then
 * asks the registry itself for the tag's manifest digest and records that; a digest that differs from the one the
 * engine reported fails the push.
 *
 * <pre>{@code
 * try (RegistryClient registry = DistributionRegistryClient.builder().build()) {
 *   PushResult r = registry.push(new PushRequest("myapp:build-42",
 *       ImageReference.parse("127.0.0.1:5000/shop/web:42"), null), JobContext.of("job-1", System.out::println));
 * }
 * }</pre>
 */
public final class DistributionRegistryClient implements RegistryClient {
  private final CredentialResolver resolver;
  private final RetryPolicy retry;
  private final Duration requestTimeout;
  private final ImagePusher pusher;
  private final HttpClient http;
  /** Registries spoken to over plain HTTP (lower case {@code host:port}). */
  private final java.util.Set<String> insecure;
  private final Map<String, DistributionClient> clients = new ConcurrentHashMap<>();
  private volatile boolean closed;

  private DistributionRegistryClient(Builder b) {
    this.resolver = b.resolver != null ? b.resolver : CredentialResolver.defaults();
    this.retry = b.retry;
    this.requestTimeout = b.requestTimeout;
    this.insecure = b.insecure;
    this.pusher = b.pusher != null ? b.pusher : EnginePusher.create(b.dockerHost, b.retry);
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5))
        .followRedirects(HttpClient.Redirect.NEVER).build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Built from the {@code registry} configuration section; see {@link DistributionRegistryClientFactory}. */
  public static DistributionRegistryClient fromSettings(Settings s) {
    s.allowOnly("provider", "address", "namespace", "username", "password", "dockerConfig", "dockerHost", "maxAttempts",
        "retryFor", "requestTimeout", "insecureRegistries");
    CredentialResolver.Builder creds = CredentialResolver.builder();
    s.string("dockerConfig").ifPresent(p -> creds.dockerConfig(Path.of(p)));
    creds.settings(s);
    int attempts = s.integer("maxAttempts", RetryPolicy.defaults().maxAttempts());
    if (attempts < 1) throw s.error("maxAttempts", "must be at least 1");
    RetryPolicy d = RetryPolicy.defaults();
    Builder b = builder().credentials(creds.build())
        .retry(new RetryPolicy(attempts, d.initialBackoff(), d.maxBackoff(), s.duration("retryFor", d.maxElapsed())))
        .requestTimeout(s.duration("requestTimeout", Duration.ofMinutes(5)));
    s.string("dockerHost").ifPresent(b::dockerHost);
    if (s.has("insecureRegistries")) b.insecureRegistries(s.strings("insecureRegistries"));
    return b.build();
  }

  @Override
  public PushResult push(PushRequest request, JobContext context) {
    checkOpen();
    ImageReference target = request.target();
    String tag = target.tag();
    if (tag == null) throw new ValidationException("push target", target, "must have a tag");
    Credentials credentials = request.credentials() != null ? request.credentials()
        : resolver.resolve(target.registry()).orElse(null);
    context.cancellation().throwIfCancelled();
    context.log().line("push: " + request.localImage() + " -> " + target.withoutDigest());
    String reported = pusher.push(request.localImage(), target.withoutDigest(), credentials, context);
    context.cancellation().throwIfCancelled();
    DistributionClient registry = client(target.registry(), credentials);
    String digest = registry.headManifest(target.repository(), tag).map(Descriptor::digest)
        .orElseThrow(() -> new RegistryException(target.registry(), 404, List.of("MANIFEST_UNKNOWN"), "registry "
            + target.registry() + ": tag " + target.repository() + ":" + tag + " is missing after the push", null));
    if (reported != null && !reported.equals(digest)) {
      throw new RegistryException(target.registry(), 0, List.of("DIGEST_MISMATCH"), "registry " + target.registry()
          + ": " + target.repository() + ":" + tag + " resolves to " + digest + " but the engine pushed " + reported,
          null);
    }
    context.log().line("push: " + target.withoutDigest() + " is " + digest);
    return new PushResult(target.withoutDigest().withDigest(digest), digest);
  }

  @Override
  public Optional<String> resolveDigest(ImageReference image, @Nullable Credentials credentials) {
    checkOpen();
    Credentials c = credentials != null ? credentials : resolver.resolve(image.registry()).orElse(null);
    return client(image.registry(), c).headManifest(image.repository(), image.reference()).map(Descriptor::digest);
  }

  @Override
  public @Nullable Credentials credentialsFor(String registry) {
    return resolver.resolve(registry).orElse(null);
  }

  /** A registry API client for a host with the given (or configured) credentials. */
  public DistributionClient distributionClient(String registry, @Nullable Credentials credentials) {
    checkOpen();
    return client(registry, credentials);
  }

  private DistributionClient client(String registry, @Nullable Credentials credentials) {
    // one client (with its token cache) per registry and credentials; the key holds a hash, never the secret
    String key = registry + "\u0000" + (credentials == null ? "-" : credentials.username() + "\u0000"
        + Digests.sha256(credentials.secret().reveal().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    return clients.computeIfAbsent(key, k -> {
      DistributionClient.Builder b = DistributionClient.builder(registry).credentials(credentials)
          .retry(retry).requestTimeout(requestTimeout).httpClient(http);
      if (insecure.contains(registry.toLowerCase(java.util.Locale.ROOT))) b.endpoint(URI.create("http://" + registry));
      return b.build();
    });
  }

  private void checkOpen() {
    if (closed) throw new IllegalStateException("registry client is closed");
  }

  @Override
  public void close() {
    if (closed) return;
    closed = true;
    clients.clear();
    pusher.close();
  }

  /** Configures a {@link DistributionRegistryClient}. */
  public static final class Builder {
    private @Nullable CredentialResolver resolver;
    private RetryPolicy retry = RetryPolicy.defaults();
    private Duration requestTimeout = Duration.ofMinutes(5);
    private @Nullable String dockerHost;
    private @Nullable ImagePusher pusher;
    private java.util.Set<String> insecure = java.util.Set.of();

    private Builder() {}

    /**
     * Registries ({@code host:port}) that speak plain HTTP, as Docker's {@code insecure-registries} names them for an
     * engine (loopback registries always do); every other registry is spoken to over HTTPS only.
     */
    public Builder insecureRegistries(java.util.Collection<String> registries) {
      java.util.Set<String> s = new java.util.HashSet<>();
      for (String r : registries) {
        if (r == null || !r.matches("[A-Za-z0-9.-]+(:[0-9]{1,5})?|\\[[0-9A-Fa-f:]+\\](:[0-9]{1,5})?")) {
          throw new ValidationException("registry.insecureRegistries", r, "must be host or host:port, without scheme or path");
        }
        s.add(r.toLowerCase(java.util.Locale.ROOT));
      }
      this.insecure = java.util.Set.copyOf(s);
      return this;
    }

    /** Where credentials come from when a request carries none (default: the Docker config of this process). */
    public Builder credentials(CredentialResolver r) {
      this.resolver = r;
      return this;
    }

    public Builder retry(RetryPolicy policy) {
      this.retry = policy;
      return this;
    }

    public Builder requestTimeout(Duration d) {
      this.requestTimeout = d;
      return this;
    }

    /** The engine that holds built images and pushes them (default {@code DOCKER_HOST} or the local socket). */
    public Builder dockerHost(String host) {
      this.dockerHost = host;
      return this;
    }

    Builder pusher(ImagePusher p) {
      this.pusher = p;
      return this;
    }

    public DistributionRegistryClient build() {
      return new DistributionRegistryClient(this);
    }
  }
}
