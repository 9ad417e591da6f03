package dev.byop.buildkit;

import dev.byop.core.ValidationException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One {@code dockerfile.v0} build: the local context (or a git URL the daemon fetches), Dockerfile, options, and
 * where the image goes.
 *
 * @param contextDir the local build context, or null when {@link #gitContext} is used; a path without symbolic
 *     links on the way (it is opened without following any)
 * @param gitContext a git URL ({@code https://host/repo.git#ref}) for the daemon to fetch, or null
 * @param dockerfile the Dockerfile on disk (for a local context usually inside it); a regular file, its path free
 *     of symbolic links like the context's
 * @param target the stage to build, or null for the last
 * @param buildArgs build arguments
 * @param labels image labels
 * @param platforms target platforms; empty for the daemon's own
 * @param noCache ignore the build cache
 * @param cacheImports cache sources, e.g. {@code {type=registry, ref=host/app:cache}}
 * @param cacheExports cache destinations, same shape
 * @param imageNames the names to give the image (first is the main one)
 * @param push push from the daemon ({@code image} exporter; standalone buildkitd only)
 * @param secrets build secrets by id, for {@code RUN --mount=type=secret}
 * @param sharedKey stable per app and component: the daemon keeps the last upload under it and re-sends only changes
 */
public record DockerfileBuild(@Nullable Path contextDir, @Nullable String gitContext, Path dockerfile,
    @Nullable String target, Map<String, String> buildArgs, Map<String, String> labels, List<String> platforms,
    boolean noCache, List<Map<String, String>> cacheImports, List<Map<String, String>> cacheExports,
    List<String> imageNames, boolean push, Map<String, byte[]> secrets, String sharedKey) {

  public DockerfileBuild {
    if ((contextDir == null) == (gitContext == null)) {
      throw new ValidationException("build.context", null, "give exactly one of a local directory and a git URL");
    }
    buildArgs = Map.copyOf(buildArgs);
    labels = Map.copyOf(labels);
    platforms = List.copyOf(platforms);
    cacheImports = List.copyOf(cacheImports);
    cacheExports = List.copyOf(cacheExports);
    imageNames = List.copyOf(imageNames);
    secrets = Map.copyOf(secrets);
  }

  /** A local-context build of {@code dir/Dockerfile} named {@code image}, with nothing else set. */
  public static DockerfileBuild local(Path dir, String image) {
    return new DockerfileBuild(dir, null, dir.resolve("Dockerfile"), null, Map.of(), Map.of(), List.of(), false,
        List.of(), List.of(), List.of(image), false, Map.of(), "byop:" + dir.toAbsolutePath());
  }

  public DockerfileBuild withBuildArgs(Map<String, String> v) {
    return new DockerfileBuild(contextDir, gitContext, dockerfile, target, v, labels, platforms, noCache,
        cacheImports, cacheExports, imageNames, push, secrets, sharedKey);
  }

  public DockerfileBuild withTarget(@Nullable String v) {
    return new DockerfileBuild(contextDir, gitContext, dockerfile, v, buildArgs, labels, platforms, noCache,
        cacheImports, cacheExports, imageNames, push, secrets, sharedKey);
  }

  public DockerfileBuild withDockerfile(Path v) {
    return new DockerfileBuild(contextDir, gitContext, v, target, buildArgs, labels, platforms, noCache,
        cacheImports, cacheExports, imageNames, push, secrets, sharedKey);
  }

  public DockerfileBuild withSecrets(Map<String, byte[]> v) {
    return new DockerfileBuild(contextDir, gitContext, dockerfile, target, buildArgs, labels, platforms, noCache,
        cacheImports, cacheExports, imageNames, push, v, sharedKey);
  }

  public DockerfileBuild withNoCache(boolean v) {
    return new DockerfileBuild(contextDir, gitContext, dockerfile, target, buildArgs, labels, platforms, v,
        cacheImports, cacheExports, imageNames, push, secrets, sharedKey);
  }

  public DockerfileBuild withSharedKey(String v) {
    return new DockerfileBuild(contextDir, gitContext, dockerfile, target, buildArgs, labels, platforms, noCache,
        cacheImports, cacheExports, imageNames, push, secrets, v);
  }

  public DockerfileBuild withLabels(Map<String, String> v) {
    return new DockerfileBuild(contextDir, gitContext, dockerfile, target, buildArgs, v, platforms, noCache,
        cacheImports, cacheExports, imageNames, push, secrets, sharedKey);
  }

  @Override
  public String toString() {
    return "DockerfileBuild[context=" + (contextDir != null ? contextDir : gitContext) + ", dockerfile=" + dockerfile
        + ", target=" + target + ", images=" + imageNames + ", secrets=" + secrets.keySet() + "]";
  }
}
