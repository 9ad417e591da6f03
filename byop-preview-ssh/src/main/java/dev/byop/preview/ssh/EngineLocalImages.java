package dev.byop.preview.ssh;

import org.jspecify.annotations.Nullable;
import dev.byop.docker.DockerClient;
import dev.byop.docker.ImageInfo;
import java.io.InputStream;
import java.util.Objects;

/**
 * {@link LocalImages} through the local Docker Engine API ({@code GET /images/{name}/json}, streamed
 * {@code GET /images/{name}/get}), the default.
 */
final class EngineLocalImages implements LocalImages {

  private final DockerClient docker;

  /** @param docker a client of the local engine; the caller closes it */
  EngineLocalImages(DockerClient docker) {
    this.docker = Objects.requireNonNull(docker, "docker");
  }

  @Override
  public LocalImage inspect(String reference) {
    ImageInfo info = docker.inspectImage(reference)
        .orElseThrow(() -> new SshException("local image '" + reference + "' does not exist in the engine at " + docker.endpoint().uri()));
    @Nullable String created;
    try {
      created = new com.fasterxml.jackson.databind.ObjectMapper().readTree(info.rawJson()).path("Created").asText(null);
    } catch (java.io.IOException e) {
      created = null; // only the id then identifies the image
    }
    return new LocalImage(reference, info.id(), info.layers(), created);
  }

  @Override
  public InputStream save(String reference) {
    return docker.saveImage(reference);
  }
}
