package dev.byop.core.internal;

import dev.byop.core.spi.Cancellation;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A {@link Cancellation} that byop fires: by the user, by a job timeout, when a lease is lost, or at shutdown. */
public final class CancellationSource implements Cancellation {
  private static final Logger LOG = LoggerFactory.getLogger(CancellationSource.class);
  private final List<Runnable> actions = new ArrayList<>();
  private final Redactor secrets;
  private volatile String reason;

  /** @param secrets masked in what a failing callback's exception says in the log */
  public CancellationSource(Redactor secrets) {
    this.secrets = secrets;
  }

  /** Fires the cancellation with a reason; only the first call counts. Returns whether this call fired it. */
  public boolean cancel(String why) {
    List<Runnable> toRun;
    synchronized (this) {
      if (reason != null) return false;
      reason = why;
      toRun = new ArrayList<>(actions);
      actions.clear();
    }
    for (Runnable r : toRun) run(r);
    return true;
  }

  private void run(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      LOG.warn("cancellation callback failed", secrets.safe(e));
    }
  }

  @Override
  public boolean isCancelled() {
    return reason != null;
  }

  @Override
  public AutoCloseable onCancel(Runnable action) {
    synchronized (this) {
      if (reason == null) {
        actions.add(action);
        return () -> {
          synchronized (this) {
            actions.remove(action);
          }
        };
      }
    }
    run(action);
    return () -> { };
  }

  @Override
  public String reason() {
    String r = reason;
    return r == null ? "" : r;
  }
}
