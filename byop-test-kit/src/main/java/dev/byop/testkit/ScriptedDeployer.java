package dev.byop.testkit;

import dev.byop.core.Preview;
import dev.byop.core.PreviewException;
import dev.byop.core.spi.JobContext;
import dev.byop.core.spi.PreviewDeployer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@link PreviewDeployer} that runs nothing: {@link #deploy()} plays the scripted outcomes (a failure is a
 * {@link PreviewException}); a successful deploy "runs" the preview at {@code http://<hostname>/} on host
 * {@link #HOST} until it is torn down.
 */
public final class ScriptedDeployer implements PreviewDeployer {
  /** The host every scripted preview runs on. */
  public static final String HOST = "scripted.local";

  private final ScriptedStep deploy = new ScriptedStep("deploy");
  private final Set<String> running = ConcurrentHashMap.newKeySet();
  private final Set<String> tornDown = ConcurrentHashMap.newKeySet();

  ScriptedDeployer() { }

  /** The deploy step (preview status DEPLOYING). */
  public ScriptedStep deploy() {
    return deploy;
  }

  /** Ids of the previews that run now. */
  public Set<String> running() {
    return Set.copyOf(running);
  }

  /** Ids of the previews torn down so far. */
  public Set<String> tornDown() {
    return Set.copyOf(tornDown);
  }

  @Override
  public Deployment deploy(DeployRequest request, JobContext context) {
    context.log().line("scripted deploy of " + request.images().values());
    deploy.play(context.cancellation(), PreviewException::new);
    running.add(request.preview().id());
    return new Deployment(HOST, "127.0.0.1", "http://" + request.preview().hostname() + "/");
  }

  @Override
  public void tearDown(Preview preview, JobContext context) {
    running.remove(preview.id());
    tornDown.add(preview.id());
  }

  @Override
  public Health status(Preview preview) {
    boolean up = running.contains(preview.id());
    Map<String, String> components = new LinkedHashMap<>();
    preview.images().keySet().forEach(c -> components.put(c, up ? "running" : "absent"));
    return new Health(up, components);
  }

  @Override
  public List<String> logs(Preview preview, int tail) {
    return List.of();
  }

  @Override
  public void close() { }
}
