package dev.byop.preview.ssh;

import dev.byop.core.BuildException;
import dev.byop.core.ImageReference;
import dev.byop.core.spi.ImageBuilder;
import dev.byop.core.spi.ImageBuilderFactory;
import dev.byop.core.spi.JobContext;
import dev.byop.core.spi.ProviderContext;
import java.util.List;
import java.util.Map;

/**
 * An image builder for preview tests whose images the test built beforehand (the builder is not under test there):
 * {@code hasImage} asks the local engine through the docker CLI, so a preview of that commit reuses the image; fetching
 * or building is refused. Provider id {@code prebuilt}; {@code builder.dockerCli} and {@code builder.dockerHost} say how.
 */
public final class PrebuiltImages implements ImageBuilder {
  private final String cli;
  private final String dockerHost;

  PrebuiltImages(String cli, String dockerHost) {
    this.cli = cli;
    this.dockerHost = dockerHost;
  }

  /** Its factory. */
  public static final class Factory implements ImageBuilderFactory {
    @Override
    public String id() {
      return "prebuilt";
    }

    @Override
    public ImageBuilder create(ProviderContext context) {
      return new PrebuiltImages(context.settings().requireString("dockerCli"),
          context.settings().requireString("dockerHost"));
    }
  }

  @Override
  public BuilderCapabilities capabilities() {
    return new BuilderCapabilities("prebuilt (test)", null, List.of(), false, Map.of());
  }

  @Override
  public boolean hasImage(ImageReference image) {
    try {
      TestbedEnv.run(List.of(cli, "image", "inspect", "--format", "{{.Id}}", image.familiar()),
          Map.of("DOCKER_HOST", dockerHost));
      return true;
    } catch (IllegalStateException absent) {
      return false;
    }
  }

  @Override
  public SourceCheckout fetchSource(FetchRequest request, JobContext context) {
    throw new BuildException("this test builds no images: " + request.component().name() + " must be prebuilt");
  }

  @Override
  public BuildResult build(BuildRequest request, JobContext context) {
    throw new BuildException("this test builds no images: " + request.image() + " must be prebuilt");
  }

  @Override
  public void close() { }
}
