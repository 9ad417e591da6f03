package dev.byop.buildkit;

import dev.byop.testing.Testbed;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.BuildConfig;
import dev.byop.core.BuildException;
import dev.byop.core.ByopConfig;
import dev.byop.core.Component;
import dev.byop.core.GitSource;
import dev.byop.core.ImageReference;
import dev.byop.core.ProviderSelector;
import dev.byop.core.ValidationException;
import dev.byop.core.spi.ImageBuilder;
import dev.byop.core.spi.ImageBuilderFactory;
import dev.byop.core.spi.JobContext;
import dev.byop.docker.DockerClient;
import dev.byop.docker.DockerEndpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ImageBuilder SPI, found through ServiceLoader, building a monorepo component from a local git repository, on
 * each engine of the bed's matrix.
 */
class BuildKitImageBuilderIT {

  static Stream<Testbed.Engine> engines() {
    return Testbed.get().engines().stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("engines")
  void multiStageFromGitWithBuildArgsAndTarget(Testbed.Engine engine, @TempDir Path tmp) throws Exception {
    String base = Testbed.get().baseImage();
    Path repo = tmp.resolve("repo");
    Files.createDirectories(repo.resolve("services/web"));
    Files.writeString(repo.resolve("services/web/Dockerfile"), String.join("\n",
        "FROM " + base + " AS base",
        "ARG GREETING=default",
        "RUN echo \"$GREETING\" > /greeting",
        "FROM base AS app",
        "ARG WHO",
        "COPY message.txt /message.txt",
        "RUN echo \"$(cat /greeting), $WHO: $(cat /message.txt)\" > /out",
        "CMD [\"cat\", \"/out\"]",
        "FROM base AS broken",
        "RUN exit 7",
        ""));
    Files.writeString(repo.resolve("services/web/message.txt"), "v1");
    Files.writeString(repo.resolve("README.md"), "outside the component context\n");
    Cli.ok(repo, "git", "init", "-q", "-b", "main");
    Cli.ok(repo, "git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "add", "-A");
    Cli.ok(repo, "git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "one");
    String commit1 = Cli.ok(repo, "git", "rev-parse", "HEAD").trim();

    ByopConfig config = ByopConfig.of(Map.of(
        "dataDir", tmp.resolve("data").toString(),
        "git", Map.of("allowFile", true),
        "builder", Map.of("provider", "buildkit", "endpoint", "docker+" + engine.dockerHost(),
            // no Docker config may supply the test registry's password: only the request's credentials count
            "dockerConfig", tmp.resolve("no-docker-config.json").toString())));
    ProviderSelector<ImageBuilder> selector = new ProviderSelector<>("builder", ImageBuilderFactory.class)
        .discover(getClass().getClassLoader());
    assertInstanceOf(BuildKitImageBuilderFactory.class, selector.select(config).factory());
    DockerClient docker = DockerClient.connect(DockerEndpoint.parse(engine.dockerHost()));
    ImageReference image = ImageReference.parse("byop-it-buildkit/web:" + commit1.substring(0, 12));
    try (ImageBuilder builder = selector.create(config)) {
      Component web = new Component("web", GitSource.of("file://" + repo).withRef("main"), "services/web",
          "Dockerfile", Map.of("GREETING", "hello"), 8080, Map.of(), null);
      List<String> log = new CopyOnWriteArrayList<>();
      JobContext job = JobContext.of("job-1", log::add);
      ImageBuilder.SourceCheckout co = builder.fetchSource(new ImageBuilder.FetchRequest("shop", web, null, null), job);
      assertEquals(commit1, co.commit());
      assertTrue(Files.isRegularFile(co.contextDir().resolve("Dockerfile")));
      assertFalse(Files.exists(co.directory().resolve(".git")), "the job dir holds no .git");

      BuildConfig cfg = BuildConfig.builder().buildArg("WHO", "byop").target("app").label("org.byop.test", "1").build();
      ImageBuilder.BuildResult r = builder.build(new ImageBuilder.BuildRequest("shop", web, co, cfg, image, Map.of(),
          false, null), job);
      assertTrue(r.imageId().startsWith("sha256:"), r.toString());
      assertEquals("hello, byop: v1\n", Cli.docker(engine, "run", "--rm", image.familiar()));
      assertEquals("1", docker.inspectImage(image.familiar()).orElseThrow().labels().get("org.byop.test"));
      assertTrue(builder.hasImage(image), "the engine holds what the moby exporter built");
      assertFalse(builder.hasImage(image.withTag("never-built")));
      assertTrue(log.stream().anyMatch(l -> l.startsWith("fetching file://")), String.join("\n", log));
      builder.cleanup(co);
      assertFalse(Files.exists(co.directory()));

      // second commit, fetched by id through the cache: only message.txt changed
      Files.writeString(repo.resolve("services/web/message.txt"), "v2");
      Cli.ok(repo, "git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-am", "two");
      String commit2 = Cli.ok(repo, "git", "rev-parse", "HEAD").trim();
      JobContext job2 = JobContext.of("job-2", log::add);
      ImageBuilder.SourceCheckout co2 = builder.fetchSource(
          new ImageBuilder.FetchRequest("shop", web, commit2, null), job2);
      assertEquals(commit2, co2.commit());
      builder.build(new ImageBuilder.BuildRequest("shop", web, co2, cfg, image, Map.of(), false, null), job2);
      assertEquals("hello, byop: v2\n", Cli.docker(engine, "run", "--rm", image.familiar()));

      // bad input: unknown target, missing Dockerfile, a context dir the repo does not have, option injection
      BuildException t = assertThrows(BuildException.class, () -> builder.build(new ImageBuilder.BuildRequest("shop",
          web, co2, BuildConfig.builder().target("nope").build(), image, Map.of(), false, null), job2));
      assertTrue(t.getMessage().contains("nope"), t.getMessage());
      BuildException df = assertThrows(BuildException.class, () -> builder.build(new ImageBuilder.BuildRequest("shop",
          web, co2, BuildConfig.builder().dockerfile("Missing.Dockerfile").build(), image, Map.of(), false, null), job2));
      assertTrue(df.getMessage().contains("Missing.Dockerfile"), df.getMessage());
      BuildException ctx = assertThrows(BuildException.class, () -> builder.fetchSource(new ImageBuilder.FetchRequest(
          "shop", web.withContext("services/none", "Dockerfile"), null, null), JobContext.of("job-3", log::add)));
      assertTrue(ctx.getMessage().contains("services/none"), ctx.getMessage());
      assertThrows(ValidationException.class, () -> GitSource.of("--upload-pack=touch /tmp/pwned"));
      builder.cleanup(co2);

      // explicit registry credentials of the build request reach the daemon through the session (private base)
      String registry = engine.registry();
      String privateBase = registry + "/buildkit/spi-base";
      docker.tagImage(base, privateBase, "1");
      docker.pushImage(privateBase, "1", dev.byop.docker.RegistryAuth.basic(Testbed.get().registry().user(),
          Testbed.get().registry().password(), registry), p -> { });
      docker.removeImage(privateBase + ":1", false);
      Files.writeString(repo.resolve("services/web/Dockerfile"), "FROM " + privateBase + ":1\nRUN echo private-base\n");
      Cli.ok(repo, "git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-am", "three");
      ImageBuilder.SourceCheckout co3 = builder.fetchSource(
          new ImageBuilder.FetchRequest("shop", web, "main", null), JobContext.of("job-4", log::add));
      ImageReference privateImage = ImageReference.parse(registry + "/buildkit/spi-web:1");
      try {
        builder.build(new ImageBuilder.BuildRequest("shop", web, co3, BuildConfig.defaults(), privateImage, Map.of(),
            false, dev.byop.core.Credentials.basic(Testbed.get().registry().user(), Testbed.get().registry().password())),
            JobContext.of("job-4", log::add));
        assertTrue(docker.inspectImage(privateImage.toString()).isPresent());
      } finally {
        docker.removeImage(privateImage.toString(), true);
        docker.removeImage(privateBase + ":1", true);
        builder.cleanup(co3);
      }
    } finally {
      docker.removeImage(image.familiar(), true);
    }
  }
}
