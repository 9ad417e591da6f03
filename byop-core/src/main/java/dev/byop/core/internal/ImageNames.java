package dev.byop.core.internal;

import dev.byop.core.ImageReference;
import dev.byop.core.Settings;
import dev.byop.core.ValidationException;
import java.util.regex.Pattern;

/**
 * How byop names the images it builds and pushes, in one place so that every reader agrees with every writer: the
 * local name a build gives an image and a preview reuses ({@code <repository>/<app>/<component>:<tag>}), and the
 * registry name a build pushes to and an SSH host pulls from ({@code <registry>/<namespace>/<app>/<component>:<tag>}).
 *
 * <p>Two rules keep one user's names from taking another's: a commit's image is tagged with its first 12 hex
 * characters and a user's tag may never look like that (so a build's tag override cannot replace the image a preview
 * takes for a commit), and every push lands under the configured namespace (so an app named {@code library} with a
 * component {@code alpine} is {@code <registry>/byop/library/alpine}, never {@code library/alpine}).
 */
public final class ImageNames {
  /** The default of {@code registry.namespace}. */
  public static final String DEFAULT_NAMESPACE = "byop";
  /**
   * What a user's tag may not be: lowercase hex of 7 to 64 characters, i.e. any abbreviation of a commit id as git
   * prints them. Wider than the 12 characters {@link #tag} makes today, so a change of that length cannot reopen it.
   */
  private static final Pattern COMMIT_LIKE = Pattern.compile("[0-9a-f]{7,64}");
  private static final Pattern PATH_COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");

  private ImageNames() {}

  /** The tag of an image built from a commit: its first 12 characters, as git shows short ids. */
  public static String tag(String commit) {
    return commit.substring(0, Math.min(12, commit.length()));
  }

  /**
   * Checks a tag a user asked for ({@code build.tag}): a valid image tag that cannot be taken for a commit's tag.
   *
   * @throws ValidationException naming the field, the tag and the rule
   */
  public static String checkUserTag(String field, String tag) {
    ImageReference.parse("x:" + tag);
    if (COMMIT_LIKE.matcher(tag).matches()) {
      throw new ValidationException(field, tag, "must not be 7-64 lowercase hex characters: such tags are reserved for"
          + " images built from commits (previews take them by commit id); add a letter, e.g. 'v" + tag + "'");
    }
    return tag;
  }

  /** The tag of a build: the user's tag (checked again, it may come from a stored row), else the commit's. */
  public static String buildTag(@org.jspecify.annotations.Nullable String userTag, String commit) {
    return userTag != null ? checkUserTag("build.tag", userTag) : tag(commit);
  }

  /** {@code <repository>/<app>/<component>:<tag>}, e.g. {@code byop/shop/web:0123456789ab}. */
  public static ImageReference local(String repository, String appId, String component, String tag) {
    return ImageReference.parse(repository + "/" + appId + "/" + component + ":" + tag);
  }

  /**
   * The one registry name of a component's image: {@code <registry>/<namespace>/<app>/<component>:<tag>}. The build
   * pushes to it (with the registry address it pushes to) and the SSH deployer pulls it (with the address the hosts
   * reach the same registry at).
   */
  public static ImageReference remote(String registry, String namespace, String appId, String component, String tag) {
    checkNamespace("registry.namespace", namespace);
    ImageReference ref = ImageReference.parse(registry + "/" + namespace + "/" + appId + "/" + component + ":" + tag);
    if (!ref.registry().equals(registry)) {
      throw new ValidationException("registry.address", Checks.printable(registry), "must be a registry host[:port]");
    }
    return ref;
  }

  /**
   * Checks a namespace: one or more image path components separated by {@code /} (e.g. {@code byop} or
   * {@code team/byop}), so the namespace can never be empty or start with a registry host.
   */
  public static String checkNamespace(String field, String namespace) {
    if (namespace == null || namespace.isEmpty()) throw new ValidationException(field, namespace, "must not be empty");
    for (String part : namespace.split("/", -1)) {
      if (!PATH_COMPONENT.matcher(part).matches()) {
        throw new ValidationException(field, Checks.printable(namespace), "must be lowercase path components"
            + " [a-z0-9] separated by '.', '_', '__' or '-', joined by '/'");
      }
    }
    return namespace;
  }

  /** {@code registry.namespace} of the {@code registry} section, default {@value #DEFAULT_NAMESPACE}, checked. */
  public static String namespace(Settings registry) {
    String ns = registry.string("namespace", DEFAULT_NAMESPACE);
    try {
      return checkNamespace("registry.namespace", ns);
    } catch (ValidationException e) {
      throw registry.error("namespace", e.rule());
    }
  }
}
