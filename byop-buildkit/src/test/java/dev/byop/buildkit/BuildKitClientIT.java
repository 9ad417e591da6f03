package dev.byop.buildkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.spi.Cancellation;
import dev.byop.docker.DockerClient;
import dev.byop.docker.DockerEndpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client against the test bed's Docker Engine (embedded BuildKit). */
class BuildKitClientIT {
  static BuildKitClient bk;
  static DockerClient docker;
  static String base;
  static final List<String> images = Collections.synchronizedList(new ArrayList<>());

  @BeforeAll
  static void connect() {
    DockerEndpoint ep = DockerEndpoint.parse(TestbedEnv.get("DOCKER_HOST"));
    bk = BuildKitClient.connect(BuildKitEndpoint.docker(ep));
    docker = DockerClient.connect(ep);
    base = TestbedEnv.get("BASE_IMAGE");
  }

  @AfterAll
  static void cleanUp() {
    for (String i : images) {
      docker.removeImage(i, true);
    }
    bk.close();
    bk.close();
  }

  static String image(String name) {
    String i = "byop-it-buildkit/" + name + ":1";
    images.add(i);
    return i;
  }

  @Test
  void simpleBuildFromLocalDir(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("Dockerfile"), "FROM " + base + "\nCOPY hello.txt /hello.txt\nRUN echo built-$((1+2))\n");
    Files.writeString(dir.resolve("hello.txt"), "hello from byop\n");
    List<String> log = Collections.synchronizedList(new ArrayList<>());
    String img = image("simple");
    SolveResult r = bk.build(DockerfileBuild.local(dir, img), log::add, Cancellation.none());
    log.forEach(System.out::println);
    assertTrue(r.imageDigest().orElseThrow().startsWith("sha256:"), r.toString());
    assertEquals(r.imageDigest().get(), docker.inspectImage(img).orElseThrow().id());
    assertEquals("hello from byop\n", Cli.docker("run", "--rm", img, "cat", "/hello.txt"));
    assertTrue(log.stream().anyMatch(l -> l.matches("#\\d+ built-3")), String.join("\n", log));
    assertTrue(log.stream().anyMatch(l -> l.matches("#\\d+ DONE \\d+\\.\\ds")), String.join("\n", log));
  }
}
