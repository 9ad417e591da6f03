package dev.byop.core.spi;

import dev.byop.core.App;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/** Apps, their components and their current image and preview. */
public interface AppStore {
  /** Inserts or replaces an app and its components. */
  App saveApp(App app);

  Optional<App> findApp(String appId);

  List<App> listApps();

  /** Deletes an app; fails when it has running build jobs or previews. */
  void deleteApp(String appId);

  /** The app's current image and preview, as updated by successful builds and previews. */
  Optional<AppState> appState(String appId);

  /**
   * @param appId the app
   * @param currentImage the image of the last successful build, or null
   * @param currentDigest its digest, or null
   * @param previewId the app's current preview, or null
   * @param previewUrl that preview's URL, or null
   */
  record AppState(String appId, @Nullable String currentImage, @Nullable String currentDigest,
      @Nullable String previewId, @Nullable String previewUrl) {}
}
