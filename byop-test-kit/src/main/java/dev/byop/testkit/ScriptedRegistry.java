package dev.byop.testkit;

import dev.byop.core.Credentials;
import dev.byop.core.ImageReference;
import dev.byop.core.RegistryException;
import dev.byop.core.spi.JobContext;
import dev.byop.core.spi.RegistryClient;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * A {@link RegistryClient} that holds pushed tags in memory: {@link #push()} plays the scripted outcomes (a failure is
 * a {@link RegistryException} with status 500); a successful push records the tag with a digest derived from it.
 */
public final class ScriptedRegistry implements RegistryClient {
  private final ScriptedStep push = new ScriptedStep("push");
  private final Map<String, String> tags = new ConcurrentHashMap<>();

  ScriptedRegistry() { }

  /** The push step (build status PUSHING). */
  public ScriptedStep push() {
    return push;
  }

  /** The tags pushed so far and their digests. */
  public Map<String, String> tags() {
    return Map.copyOf(tags);
  }

  @Override
  public PushResult push(PushRequest request, JobContext context) {
    context.log().line("scripted push of " + request.target());
    ImageReference target = request.target();
    push.play(context.cancellation(), m -> new RegistryException(target.registry(), 500, List.of(), m, null));
    String digest = "sha256:" + Digests.of(target.toString());
    tags.put(target.toString(), digest);
    return new PushResult(target, digest);
  }

  @Override
  public Optional<String> resolveDigest(ImageReference image, @Nullable Credentials credentials) {
    return Optional.ofNullable(tags.get(image.toString()));
  }

  @Override
  public void close() { }
}
