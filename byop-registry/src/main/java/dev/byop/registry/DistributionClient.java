package dev.byop.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.byop.core.Credentials;
import dev.byop.core.RegistryException;
import dev.byop.core.ValidationException;
import dev.byop.registry.internal.Json;
import dev.byop.registry.internal.RegistryTransport;
import dev.byop.registry.internal.RegistryTransport.Call;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A small client for one registry speaking the OCI Distribution API (Docker Registry HTTP API v2), on
 * {@code java.net.http}.
 *
 * <p>Why not jib-core: it builds and pushes images it assembles itself, re-creating manifests and therefore digests;
 * byop must move manifests byte for byte (the digest the builder produced is the one that gets recorded) and needs
 * index handling, mounts and deletes on their own. The protocol part needed here is small, so it is written out.
 *
 * <pre>{@code
 * try (DistributionClient registry = DistributionClient.builder("127.0.0.1:5000")
 *     .credentials(Credentials.basic("ci", password)).build()) {
 *   registry.checkApiVersion();
 *   Optional<Descriptor> m = registry.headManifest("shop/web", "v1");
 * }
 * }</pre>
 *
 * <p>Thread-safe. Every failure is a {@link RegistryException} with the registry host, the HTTP status (0 when no
 * answer came) and the registry's error codes; no message carries a credential.
 */
public final class DistributionClient implements AutoCloseable {
  private static final Pattern REPO = Pattern.compile(
      "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*");
  private static final Pattern TAG = Pattern.compile("[\\w][\\w.-]{0,127}");
  private static final Pattern LINK_NEXT = Pattern.compile("<([^>]+)>\\s*;\\s*rel=\"?next\"?");
  private static final String OCTETS = "application/octet-stream";

  private final RegistryTransport transport;
  private final String registry;
  private final int chunkSize;

  private DistributionClient(Builder b) {
    this.registry = b.registry;
    this.chunkSize = b.chunkSize;
    URI base = b.endpoint != null ? b.endpoint : defaultEndpoint(registry);
    HttpClient http = b.httpClient != null ? b.httpClient
        : HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(b.connectTimeout)
            .followRedirects(HttpClient.Redirect.NEVER).build();
    this.transport = new RegistryTransport(http, base, registry, b.credentials, b.retry, b.requestTimeout, b.clock);
  }

  /** A builder for the registry {@code host[:port]}, e.g. {@code 127.0.0.1:5000} or {@code ghcr.io}. */
  public static Builder builder(String registry) {
    return new Builder(registry);
  }

  /** The registry host and port this client talks to. */
  public String registry() {
    return registry;
  }

  /** Checks that the endpoint speaks the v2 API (authenticating if asked to); returns the announced API version. */
  public String checkApiVersion() {
    HttpResponse<byte[]> r = transport.sendForBytes(Call.of("GET", transport.resolve("/v2/"), "", 200));
    return r.headers().firstValue("Docker-Distribution-API-Version").orElse("registry/2.0");
  }

  /** The descriptor of a manifest by tag or digest, or empty when the registry does not have it. */
  public Optional<Descriptor> headManifest(String repository, String reference) {
    HttpResponse<Void> r = transport.send(manifestCall("HEAD", repository, reference, 200, 404)
        .withHeaders("Accept", String.join(", ", MediaTypes.ALL_MANIFESTS)), HttpResponse.BodyHandlers.discarding());
    if (r.statusCode() == 404) return Optional.empty();
    String digest = r.headers().firstValue("Docker-Content-Digest").orElse(null);
    if (digest == null) {
      if (reference.contains(":")) {
        digest = reference;
      } else {
        // a registry that omits the header on HEAD: GET once to learn the digest
        return Optional.of(getManifest(repository, reference).descriptor());
      }
    }
    String type = r.headers().firstValue("Content-Type").orElse("");
    long size = r.headers().firstValueAsLong("Content-Length").orElse(0);
    return Optional.of(new Descriptor(stripParams(type), digest, size));
  }

  /** The manifest or index by tag or digest; its bytes are checked against the digest the registry announces. */
  public Manifest getManifest(String repository, String reference) {
    HttpResponse<byte[]> r = transport.sendForBytes(manifestCall("GET", repository, reference, 200)
        .withHeaders("Accept", String.join(", ", MediaTypes.ALL_MANIFESTS)));
    String type = stripParams(r.headers().firstValue("Content-Type").orElse(""));
    if (type.isEmpty() || type.equals("application/json")) {
      type = Json.tree(r.body()).path("mediaType").asText(type);
    }
    Manifest m = Manifest.of(type, r.body());
    String announced = r.headers().firstValue("Docker-Content-Digest").orElse(null);
    String expected = reference.contains(":") ? reference : announced;
    if (expected != null && expected.startsWith("sha256:") && !expected.equals(m.digest())) {
      throw new RegistryException(registry, r.statusCode(), List.of("DIGEST_INVALID"), "registry " + registry
          + ": manifest " + repository + "@" + reference + " has digest " + m.digest() + ", expected " + expected, null);
    }
    return m;
  }

  /** Stores a manifest or index under a tag (or its digest) and returns the digest the registry assigned. */
  public String putManifest(String repository, String reference, Manifest manifest) {
    byte[] content = manifest.content();
    HttpResponse<byte[]> r = transport.sendForBytes(manifestCall("PUT", repository, reference, 201)
        .withHeaders("Content-Type", manifest.mediaType()).withBody(() -> BodyPublishers.ofByteArray(content)));
    String digest = r.headers().firstValue("Docker-Content-Digest").orElse(manifest.digest());
    if (!digest.equals(manifest.digest())) {
      throw new RegistryException(registry, r.statusCode(), List.of("DIGEST_INVALID"), "registry " + registry
          + ": stored manifest " + repository + ":" + reference + " as " + digest + ", expected " + manifest.digest(),
          null);
    }
    return digest;
  }

  /** Deletes a manifest by digest (registries refuse deleting by tag); the registry must allow deletes. */
  public void deleteManifest(String repository, String digest) {
    Digests.check(digest);
    transport.sendForBytes(new Call("DELETE", path(repository, "/manifests/" + digest), List.of(), null,
        scope(repository, "delete"), Set.of(202)));
  }

  /** The size of a blob, or empty when the repository does not have it. */
  public Optional<Long> headBlob(String repository, String digest) {
    Digests.check(digest);
    HttpResponse<Void> r = transport.send(new Call("HEAD", path(repository, "/blobs/" + digest), List.of(), null,
        scope(repository, "pull"), Set.of(200, 404)), HttpResponse.BodyHandlers.discarding());
    if (r.statusCode() == 404) return Optional.empty();
    return Optional.of(r.headers().firstValueAsLong("Content-Length").orElse(-1));
  }

  public boolean blobExists(String repository, String digest) {
    return headBlob(repository, digest).isPresent();
  }

  /** Uploads a blob held in memory in one request (monolithic upload). */
  public Descriptor uploadBlob(String repository, String mediaType, byte[] content) {
    String digest = Digests.sha256(content);
    URI location = startUpload(repository);
    byte[] copy = content.clone();
    finishUpload(repository, location, digest, () -> BodyPublishers.ofByteArray(copy), copy.length);
    return new Descriptor(mediaType, digest, content.length);
  }

  /** Uploads a file in one request, streamed from disk; the digest is computed by reading the file first. */
  public Descriptor uploadBlob(String repository, String mediaType, Path file) {
    String digest;
    long size;
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest sha = Digests.newSha256();
      byte[] buf = new byte[1 << 16];
      long total = 0;
      for (int n; (n = in.read(buf)) > 0; total += n) sha.update(buf, 0, n);
      digest = Digests.format(sha.digest());
      size = total;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read blob file " + file, e);
    }
    URI location = startUpload(repository);
    finishUpload(repository, location, digest, () -> {
      try {
        return BodyPublishers.ofFile(file);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }, size);
    return new Descriptor(mediaType, digest, size);
  }

  /**
   * Uploads a stream in chunks ({@code PATCH} with {@code Content-Range}, then {@code PUT ?digest=}), digesting it as
   * it goes; only one chunk is held in memory. The caller closes the stream.
   */
  public Descriptor uploadBlobChunked(String repository, String mediaType, InputStream in) {
    MessageDigest sha = Digests.newSha256();
    URI location = startUpload(repository);
    byte[] buf = new byte[chunkSize];
    long offset = 0;
    while (true) {
      int n;
      try {
        n = in.readNBytes(buf, 0, buf.length);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read blob stream for " + repository, e);
      }
      if (n == 0) break;
      sha.update(buf, 0, n);
      byte[] chunk = n == buf.length ? buf : java.util.Arrays.copyOf(buf, n);
      location = patchChunk(repository, location, chunk, offset);
      offset += n;
      if (n < buf.length) break;
    }
    String digest = Digests.format(sha.digest());
    finishUpload(repository, location, digest, BodyPublishers::noBody, 0);
    return new Descriptor(mediaType, digest, offset);
  }

  /**
   * Sends one chunk. A chunk that failed with a connection error or a 5xx may still have been stored, and sending
   * it again would then be refused (416), so before a retry the upload's state is asked for ({@code GET} on the
   * upload URL, whose {@code Range} says how many bytes the registry holds) and the chunk is sent again only when
   * it is missing.
   */
  private URI patchChunk(String repository, URI location, byte[] chunk, long start) {
    long end = start + chunk.length - 1;
    Instant began = transport.now();
    URI at = location;
    for (int attempt = 1; ; attempt++) {
      Call patch = new Call("PATCH", at, List.of("Content-Type", OCTETS, "Content-Range", start + "-" + end),
          () -> BodyPublishers.ofByteArray(chunk), scope(repository, "pull,push"), Set.of(202)).withoutRetry();
      try {
        return nextLocation(transport.sendForBytes(patch), at);
      } catch (RegistryException e) {
        boolean retryable = e.status() == 0 || e.status() >= 500;
        if (!retryable || !transport.mayRetry(attempt, began)) throw e;
        transport.pause(patch, attempt, e.status() == 0 ? "no answer" : "HTTP " + e.status());
      }
      HttpResponse<byte[]> state = transport.sendForBytes(new Call("GET", at, List.of(), null,
          scope(repository, "pull,push"), Set.of(204)));
      at = nextLocation(state, at);
      long last = state.headers().firstValue("Range").map(DistributionClient::rangeEnd).orElse(-1L);
      // distribution answers "0-0" for an empty upload as well as for one byte
      long held = last <= 0 && start == 0 ? 0 : last + 1;
      if (held == end + 1) return at;
      if (held != start) {
        throw new RegistryException(registry, 416, List.of("BLOB_UPLOAD_INVALID"), "registry " + registry
            + ": upload to " + repository + " holds " + held + " bytes, expected " + start + " or " + (end + 1), null);
      }
    }
  }

  private static long rangeEnd(String range) {
    int dash = range.lastIndexOf('-');
    try {
      return Long.parseLong(range.substring(dash + 1).trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * Mounts a blob from another repository of the same registry without uploading it. Returns false when the
   * registry declined (it then opened an upload session, which this cancels) and the blob must be uploaded.
   */
  public boolean mountBlob(String repository, String digest, String fromRepository) {
    Digests.check(digest);
    checkRepository(fromRepository);
    URI uri = path(repository, "/blobs/uploads/?mount=" + enc(digest) + "&from=" + enc(fromRepository));
    HttpResponse<byte[]> r = transport.sendForBytes(new Call("POST", uri, List.of(), null,
        scope(repository, "pull,push"), Set.of(201, 202)));
    if (r.statusCode() == 201) return true;
    r.headers().firstValue("Location").ifPresent(loc -> {
      try {
        transport.sendForBytes(new Call("DELETE", transport.resolve(loc), List.of(), null,
            scope(repository, "pull,push"), Set.of(204, 404)));
      } catch (RegistryException ignored) {
        // an abandoned upload session expires on the registry anyway
      }
    });
    return false;
  }

  /** Every tag of a repository, following the registry's pagination. */
  public List<String> listTags(String repository) {
    return listTags(repository, 0);
  }

  /**
   * Every tag of a repository, asking for pages of {@code pageSize} (0: the registry's default) and following the
   * {@code Link: <…>; rel="next"} headers. (Distribution 2.8 answers tags in one page whatever {@code n} says.)
   */
  public List<String> listTags(String repository, int pageSize) {
    return paginate(path(repository, "/tags/list" + (pageSize > 0 ? "?n=" + pageSize : "")),
        scope(repository, "pull"), "tags", "tag list of " + repository);
  }

  /** Every repository in the registry's catalog, in pages of {@code pageSize} (0: the registry's default). */
  public List<String> listRepositories(int pageSize) {
    return paginate(transport.resolve("/v2/_catalog" + (pageSize > 0 ? "?n=" + pageSize : "")),
        "registry:catalog:*", "repositories", "catalog");
  }

  private List<String> paginate(URI first, String scope, String field, String what) {
    List<String> out = new ArrayList<>();
    URI next = first;
    int pages = 0;
    while (next != null) {
      if (++pages > 100_000) {
        throw new RegistryException(registry, 200, List.of(), "registry " + registry + ": " + what
            + " does not end", null);
      }
      HttpResponse<byte[]> r = transport.sendForBytes(new Call("GET", next, List.of(), null, scope, Set.of(200)));
      for (JsonNode t : Json.tree(r.body()).path(field)) out.add(t.asText());
      next = null;
      for (String link : r.headers().allValues("Link")) {
        Matcher m = LINK_NEXT.matcher(link);
        if (m.find()) next = transport.resolve(m.group(1));
      }
    }
    return out;
  }

  /** Nothing to release with the JDK 17 client; present so callers can use try-with-resources. */
  @Override
  public void close() {}

  private URI startUpload(String repository) {
    HttpResponse<byte[]> r = transport.sendForBytes(new Call("POST", path(repository, "/blobs/uploads/"), List.of(),
        null, scope(repository, "pull,push"), Set.of(202)));
    return nextLocation(r, null);
  }

  private URI nextLocation(HttpResponse<?> r, @Nullable URI previous) {
    Optional<String> loc = r.headers().firstValue("Location");
    if (loc.isEmpty()) {
      if (previous != null) return previous;
      throw new RegistryException(registry, r.statusCode(), List.of(), "registry " + registry
          + ": upload answered without a Location", null);
    }
    return transport.resolve(loc.get());
  }

  private void finishUpload(String repository, URI location, String digest,
      Supplier<java.net.http.HttpRequest.BodyPublisher> body, long length) {
    String sep = location.getRawQuery() == null ? "?" : "&";
    URI put = URI.create(location + sep + "digest=" + enc(digest));
    HttpResponse<byte[]> r = transport.sendForBytes(new Call("PUT", put,
        List.of("Content-Type", OCTETS), body, scope(repository, "pull,push"), Set.of(201)));
    String stored = r.headers().firstValue("Docker-Content-Digest").orElse(digest);
    if (!stored.equals(digest)) {
      throw new RegistryException(registry, r.statusCode(), List.of("DIGEST_INVALID"), "registry " + registry
          + ": stored blob as " + stored + ", expected " + digest + " (" + length + " bytes)", null);
    }
  }

  private Call manifestCall(String method, String repository, String reference, Integer... expected) {
    checkReference(reference);
    String action = method.equals("GET") || method.equals("HEAD") ? "pull" : "pull,push";
    return new Call(method, path(repository, "/manifests/" + reference), List.of(), null, scope(repository, action),
        Set.of(expected));
  }

  private URI path(String repository, String rest) {
    checkRepository(repository);
    return transport.resolve("/v2/" + repository + rest);
  }

  private static String scope(String repository, String actions) {
    return "repository:" + repository + ":" + actions;
  }

  private static void checkRepository(String repository) {
    if (repository == null || !REPO.matcher(repository).matches() || repository.length() > 255) {
      throw new ValidationException("repository", repository,
          "must be lowercase path components of [a-z0-9] separated by '.', '_', '__' or '-', joined by '/'");
    }
  }

  private static void checkReference(String reference) {
    if (reference == null) throw new ValidationException("reference", null, "is required");
    if (reference.contains(":")) {
      Digests.check(reference);
    } else if (!TAG.matcher(reference).matches()) {
      throw new ValidationException("tag", reference, "must be 1-128 characters of [A-Za-z0-9_.-], not starting "
          + "with '.' or '-'");
    }
  }

  private static String stripParams(String contentType) {
    int semi = contentType.indexOf(';');
    return (semi < 0 ? contentType : contentType.substring(0, semi)).trim();
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** Docker Hub's API lives on {@code registry-1.docker.io}; loopback registries speak plain HTTP, as Docker allows. */
  static URI defaultEndpoint(String registry) {
    String r = registry.toLowerCase(Locale.ROOT);
    if (r.equals("docker.io") || r.equals("index.docker.io")) return URI.create("https://registry-1.docker.io");
    return URI.create((isLoopback(registry) ? "http" : "https") + "://" + registry);
  }

  static boolean isLoopback(String registry) {
    String host = registry.toLowerCase(Locale.ROOT);
    if (host.startsWith("[")) {
      host = host.substring(1, host.indexOf(']') < 0 ? host.length() : host.indexOf(']'));
    } else if (host.indexOf(':') >= 0) {
      host = host.substring(0, host.indexOf(':'));
    }
    return host.equals("localhost") || host.startsWith("127.") || host.equals("::1");
  }

  /** Configures a {@link DistributionClient}. */
  public static final class Builder {
    private final String registry;
    private @Nullable URI endpoint;
    private Supplier<Optional<Credentials>> credentials = Optional::empty;
    private RetryPolicy retry = RetryPolicy.defaults();
    private Duration connectTimeout = Duration.ofSeconds(5);
    private Duration requestTimeout = Duration.ofMinutes(5);
    private @Nullable HttpClient httpClient;
    private int chunkSize = 16 << 20;
    private Clock clock = Clock.systemUTC();

    private Builder(String registry) {
      if (registry == null || registry.isBlank() || registry.contains("/")) {
        throw new ValidationException("registry", registry, "must be host[:port] without scheme or path");
      }
      this.registry = registry;
    }

    /** The base URL, when not {@code https://<registry>} (or {@code http://} for a loopback registry). */
    public Builder endpoint(URI uri) {
      this.endpoint = uri;
      return this;
    }

    public Builder credentials(@Nullable Credentials c) {
      this.credentials = () -> Optional.ofNullable(c);
      return this;
    }

    /** Where to get credentials when the registry asks; called at most once per client (it may run a helper). */
    public Builder credentialSource(Supplier<Optional<Credentials>> source) {
      this.credentials = source;
      return this;
    }

    public Builder retry(RetryPolicy policy) {
      this.retry = policy;
      return this;
    }

    public Builder connectTimeout(Duration d) {
      this.connectTimeout = d;
      return this;
    }

    /** Upper bound for one HTTP exchange, including a whole blob upload request. */
    public Builder requestTimeout(Duration d) {
      this.requestTimeout = d;
      return this;
    }

    /** The caller's HTTP client (not closed by this client); it should not follow redirects. */
    public Builder httpClient(HttpClient client) {
      this.httpClient = client;
      return this;
    }

    /** Bytes per {@code PATCH} in chunked uploads; one chunk is held in memory. */
    public Builder chunkSize(int bytes) {
      if (bytes < 1024) throw new ValidationException("chunkSize", bytes, "must be at least 1024 bytes");
      this.chunkSize = bytes;
      return this;
    }

    Builder clock(Clock c) {
      this.clock = c;
      return this;
    }

    public DistributionClient build() {
      return new DistributionClient(this);
    }
  }
}
