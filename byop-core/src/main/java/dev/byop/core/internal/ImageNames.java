package dev.byop.core.internal;

import dev.byop.core.ImageReference;

/**
 * How byop names the images it builds into the local engine, the same for builds and previews, so that a preview
 * of a commit reuses the image a build of that commit made (and the layout mirrors the registry's
 * {@code <registry>/<app>/<component>:<tag>}).
 */
public final class ImageNames {
  private ImageNames() {}

  /** The tag of an image built from a commit: its first 12 characters, as git shows short ids. */
  public static String tag(String commit) {
    return commit.substring(0, Math.min(12, commit.length()));
  }

  /** {@code <repository>/<app>/<component>:<tag>}, e.g. {@code byop/shop/web:0123456789ab}. */
  public static ImageReference local(String repository, String appId, String component, String tag) {
    return ImageReference.parse(repository + "/" + appId + "/" + component + ":" + tag);
  }
}
