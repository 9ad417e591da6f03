package dev.byop.testkit;

import dev.byop.core.BuildException;
import dev.byop.core.ImageReference;
import dev.byop.core.spi.ImageBuilder;
import dev.byop.core.spi.JobContext;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An {@link ImageBuilder} that touches no git and no engine: {@link #fetch()} and {@link #build()} play the outcomes
 * the test scripted, and a build "makes" the requested image (so {@link #hasImage} then answers true). It cannot push:
 * with a registry configured, byop pushes through the {@link ScriptedRegistry}.
 */
public final class ScriptedBuilder implements ImageBuilder {
  /** The commit every fetch "checks out" unless the request names one. */
  public static final String COMMIT = "c0ffee0000000000000000000000000000000001";

  private final ScriptedStep fetch = new ScriptedStep("fetch");
  private final ScriptedStep build = new ScriptedStep("build");
  private final Set<String> images = ConcurrentHashMap.newKeySet();
  private final Path checkoutDir;

  ScriptedBuilder(Path checkoutDir) {
    this.checkoutDir = checkoutDir;
  }

  /** The fetch step (build status FETCHING). */
  public ScriptedStep fetch() {
    return fetch;
  }

  /** The build step (build status BUILDING, and a preview's BUILDING). */
  public ScriptedStep build() {
    return build;
  }

  /** The images built so far, as {@code ImageReference#toString()}. */
  public Set<String> images() {
    return Set.copyOf(images);
  }

  @Override
  public BuilderCapabilities capabilities() {
    return new BuilderCapabilities("scripted", "1", List.of("linux/amd64"), false, Map.of());
  }

  @Override
  public SourceCheckout fetchSource(FetchRequest request, JobContext context) {
    context.log().line("scripted fetch of " + request.component().source().redactedUrl());
    fetch.play(context.cancellation(), BuildException::new);
    String commit = request.revision() != null && request.revision().matches("[0-9a-f]{40}") ? request.revision()
        : COMMIT;
    return new SourceCheckout(checkoutDir, checkoutDir, commit);
  }

  @Override
  public BuildResult build(BuildRequest request, JobContext context) {
    context.log().line("scripted build of " + request.image());
    build.play(context.cancellation(), BuildException::new);
    images.add(request.image().toString());
    return new BuildResult(request.image(), "sha256:" + Digests.of(request.image().toString()), Optional.empty());
  }

  @Override
  public boolean hasImage(ImageReference image) {
    return images.contains(image.toString());
  }

  @Override
  public void close() { }
}
