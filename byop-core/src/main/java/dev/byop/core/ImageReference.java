package dev.byop.core;

import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * An image reference parsed and normalised by the grammar of the OCI distribution reference
 * ({@code [registry[:port]/]path[:tag][@digest]}), with Docker's defaults: no registry means {@code docker.io},
 * a one-component path on Docker Hub gets {@code library/}, no tag and no digest means {@code latest}.
 *
 * <pre>{@code
 * ImageReference ref = ImageReference.parse("127.0.0.1:5000/shop/web:abc123");
 * ref.registry();   // "127.0.0.1:5000"
 * ref.repository(); // "shop/web"
 * ref.withTag("v2").toString(); // "127.0.0.1:5000/shop/web:v2"
 * }</pre>
 */
public final class ImageReference {
  public static final String DOCKER_HUB = "docker.io";
  private static final String ALNUM = "[a-z0-9]+";
  private static final String SEPARATOR = "(?:[._]|__|-+)";
  private static final Pattern PATH_COMPONENT = Pattern.compile(ALNUM + "(?:" + SEPARATOR + ALNUM + ")*");
  private static final String DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
  private static final Pattern DOMAIN = Pattern.compile(
      "(?:" + DOMAIN_COMPONENT + "(?:\\." + DOMAIN_COMPONENT + ")*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?");
  private static final Pattern TAG = Pattern.compile("[\\w][\\w.-]{0,127}");
  private static final Pattern DIGEST = Pattern.compile("[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}");
  private static final int NAME_MAX = 255;

  private final String registry;
  private final String repository;
  private final @Nullable String tag;
  private final @Nullable String digest;

  private ImageReference(String registry, String repository, @Nullable String tag, @Nullable String digest) {
    this.registry = registry;
    this.repository = repository;
    this.tag = tag;
    this.digest = digest;
  }

  /** Parses a reference; throws {@link ValidationException} naming the reference and the rule it breaks. */
  public static ImageReference parse(String reference) {
    if (reference == null || reference.isEmpty()) {
      throw new ValidationException("image reference", reference, "must not be empty");
    }
    String rest = reference;
    String digest = null;
    int at = rest.indexOf('@');
    if (at >= 0) {
      digest = rest.substring(at + 1);
      rest = rest.substring(0, at);
      checkDigest(reference, digest);
    }
    String tag = null;
    int lastSlash = rest.lastIndexOf('/');
    int colon = rest.lastIndexOf(':');
    if (colon > lastSlash) {
      tag = rest.substring(colon + 1);
      rest = rest.substring(0, colon);
      if (!TAG.matcher(tag).matches()) {
        throw new ValidationException("image reference", reference,
            "tag '" + tag + "' must be 1-128 characters of [A-Za-z0-9_.-], not starting with '.' or '-'");
      }
    }
    if (rest.isEmpty()) throw new ValidationException("image reference", reference, "must name a repository");
    String registry;
    String path;
    int slash = rest.indexOf('/');
    String first = slash < 0 ? "" : rest.substring(0, slash);
    if (slash >= 0 && (first.contains(".") || first.contains(":") || first.equals("localhost")
        || !first.equals(first.toLowerCase(Locale.ROOT)))) {
      registry = first;
      path = rest.substring(slash + 1);
      if (!DOMAIN.matcher(registry).matches()) {
        throw new ValidationException("image reference", reference,
            "registry '" + registry + "' must be a host name or IP address with an optional port");
      }
    } else {
      registry = DOCKER_HUB;
      path = rest;
    }
    if (registry.equals("index.docker.io") || registry.equals("registry-1.docker.io")) registry = DOCKER_HUB;
    for (String component : path.split("/", -1)) {
      if (!PATH_COMPONENT.matcher(component).matches()) {
        String why = !component.equals(component.toLowerCase(Locale.ROOT))
            ? "repository name must be lowercase"
            : "path component '" + component + "' must be lowercase letters and digits separated by '.', '_', '__' or '-'";
        throw new ValidationException("image reference", reference, why);
      }
    }
    if (registry.equals(DOCKER_HUB) && !path.contains("/")) path = "library/" + path;
    String name = registry.equals(DOCKER_HUB) ? path : registry + "/" + path;
    if (name.length() > NAME_MAX) {
      throw new ValidationException("image reference", reference, "name must be at most " + NAME_MAX + " characters");
    }
    if (tag == null && digest == null) tag = "latest";
    return new ImageReference(registry, path, tag, digest);
  }

  /** Builds a reference from parts, validating them as {@link #parse} would. */
  public static ImageReference of(String registry, String repository, @Nullable String tag) {
    return parse(registry + "/" + repository + (tag == null ? "" : ":" + tag));
  }

  private static void checkDigest(String reference, String digest) {
    if (!DIGEST.matcher(digest).matches()) {
      throw new ValidationException("image reference", reference,
          "digest '" + digest + "' must be algorithm:hex with at least 32 hex characters");
    }
    if (digest.startsWith("sha256:") && !digest.substring(7).matches("[a-f0-9]{64}")) {
      throw new ValidationException("image reference", reference,
          "sha256 digest must be 64 lowercase hexadecimal characters");
    }
  }

  /** The registry host and optional port, e.g. {@code docker.io} or {@code 127.0.0.1:5000}. */
  public String registry() {
    return registry;
  }

  /** The repository path inside the registry, e.g. {@code library/busybox}. */
  public String repository() {
    return repository;
  }

  public @Nullable String tag() {
    return tag;
  }

  public @Nullable String digest() {
    return digest;
  }

  /** The tag, or the digest when there is no tag: what a registry manifest request is addressed by. */
  public String reference() {
    return digest != null ? digest : Objects.requireNonNull(tag);
  }

  /** Registry and repository, e.g. {@code 127.0.0.1:5000/shop/web}. */
  public String name() {
    return registry + "/" + repository;
  }

  public ImageReference withTag(String newTag) {
    return parse(name() + ":" + newTag);
  }

  public ImageReference withDigest(String newDigest) {
    return parse(name() + (tag == null ? "" : ":" + tag) + "@" + newDigest);
  }

  public ImageReference withoutDigest() {
    return new ImageReference(registry, repository, tag == null ? "latest" : tag, null);
  }

  public ImageReference withRegistry(String newRegistry) {
    return parse(newRegistry + "/" + repository + (tag == null ? "" : ":" + tag) + (digest == null ? "" : "@" + digest));
  }

  /** The fully qualified form, e.g. {@code docker.io/library/busybox:latest}. */
  @Override
  public String toString() {
    return name() + (tag == null ? "" : ":" + tag) + (digest == null ? "" : "@" + digest);
  }

  /** The short form Docker prints: no {@code docker.io/} and no {@code library/}. */
  public String familiar() {
    String n = name();
    if (registry.equals(DOCKER_HUB)) {
      n = repository.startsWith("library/") ? repository.substring(8) : repository;
    }
    return n + (tag == null ? "" : ":" + tag) + (digest == null ? "" : "@" + digest);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ImageReference r && registry.equals(r.registry) && repository.equals(r.repository)
        && Objects.equals(tag, r.tag) && Objects.equals(digest, r.digest);
  }

  @Override
  public int hashCode() {
    return Objects.hash(registry, repository, tag, digest);
  }
}
