package dev.byop.core.spi;

import dev.byop.core.App;
import dev.byop.core.ImageReference;
import dev.byop.core.Preview;
import java.util.List;
import java.util.Map;

/**
 * Runs a preview's images somewhere and routes a URL to them (the seed's local and remote preview services after the
 * images are built). Deploying the same preview again replaces what ran before.
 */
public interface PreviewDeployer extends AutoCloseable {

  /**
   * Starts the app's components from the given images and returns once the URL answers (RUNNING) or throws
   * {@link dev.byop.core.PreviewException} with the failing component's logs.
   */
  Deployment deploy(DeployRequest request, JobContext context);

  /** Stops and removes everything the preview runs (containers, networks, volumes, route, unused images). */
  void tearDown(Preview preview, JobContext context);

  /** Whether the preview's components run and its URL answers. */
  Health status(Preview preview);

  /** The last {@code tail} lines of each component's output. */
  List<String> logs(Preview preview, int tail);

  /**
   * Removes byop-labelled resources that belong to no preview in {@code knownPreviewIds}.
   *
   * @return what was removed, one entry per resource
   */
  default List<String> sweep(java.util.Set<String> knownPreviewIds, JobContext context) {
    return List.of();
  }

  @Override
  void close();

  /**
   * @param preview the stored preview (id, app, hostname)
   * @param app the app and its components
   * @param images the image to run per component name
   */
  record DeployRequest(Preview preview, App app, Map<String, ImageReference> images) {}

  /**
   * @param host {@code byop.local} or the remote host id
   * @param address the host's address
   * @param url the URL that answered
   */
  record Deployment(String host, String address, String url) {}

  /** The running state of a preview: per component, running or not, and whether the URL answers. */
  record Health(boolean urlAnswers, Map<String, String> components) {}
}
