package dev.byop.core;

import dev.byop.core.internal.Checks;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One buildable, deployable part of an app: its source, where its Dockerfile and context are, and how it runs.
 *
 * @param name a DNS label; becomes the compose service name and part of the image name
 * @param source the git repository and ref
 * @param contextDir the build context relative to the repository root ({@code .} for the root; monorepos use a
 *     sub-directory)
 * @param dockerfile the Dockerfile path relative to the context
 * @param buildArgs build arguments for every build of this component
 * @param port the port the component listens on inside its container, or 0 when it serves nothing
 * @param env environment variables of the running component; values are carried exactly, never interpreted
 * @param healthPath an HTTP path that answers 2xx/3xx when the component is healthy, or null
 */
public record Component(String name, GitSource source, String contextDir, String dockerfile,
    Map<String, String> buildArgs, int port, Map<String, String> env, @Nullable String healthPath) {

  public Component {
    Checks.dnsLabel("component.name", name);
    Checks.notNull("component.source", source);
    contextDir = contextDir == null || contextDir.isEmpty() ? "." : contextDir;
    if (!contextDir.equals(".")) Checks.relativePath("component.contextDir", contextDir);
    dockerfile = dockerfile == null || dockerfile.isEmpty() ? "Dockerfile" : dockerfile;
    Checks.relativePath("component.dockerfile", dockerfile);
    buildArgs = Checks.envMap("component.buildArgs", buildArgs);
    if (port != 0) Checks.port("component.port", port);
    env = Checks.envMap("component.env", env);
    if (healthPath != null) {
      Checks.singleLine("component.healthPath", healthPath);
      if (!healthPath.startsWith("/") || healthPath.chars().anyMatch(Character::isWhitespace)) {
        throw new ValidationException("component.healthPath", healthPath, "must start with '/' and hold no spaces");
      }
    }
  }

  /** A component built from the repository root with {@code Dockerfile}, serving HTTP on {@code port}. */
  public static Component of(String name, GitSource source, int port) {
    return new Component(name, source, ".", "Dockerfile", Map.of(), port, Map.of(), null);
  }

  public Component withEnv(Map<String, String> newEnv) {
    return new Component(name, source, contextDir, dockerfile, buildArgs, port, newEnv, healthPath);
  }

  public Component withSource(GitSource newSource) {
    return new Component(name, newSource, contextDir, dockerfile, buildArgs, port, env, healthPath);
  }

  public Component withContext(String newContextDir, String newDockerfile) {
    return new Component(name, source, newContextDir, newDockerfile, buildArgs, port, env, healthPath);
  }

  public Component withBuildArgs(Map<String, String> newBuildArgs) {
    return new Component(name, source, contextDir, dockerfile, newBuildArgs, port, env, healthPath);
  }

  public Component withHealthPath(@Nullable String newHealthPath) {
    return new Component(name, source, contextDir, dockerfile, buildArgs, port, env, newHealthPath);
  }
}
