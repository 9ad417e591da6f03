package dev.byop.core.internal;

import dev.byop.core.BuildJob;
import dev.byop.core.BuildStatus;
import dev.byop.core.ByopListener;
import dev.byop.core.LogLine;
import dev.byop.core.Preview;
import dev.byop.core.PreviewStatus;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Fans events out to every registered listener; one failing listener does not stop the others or the work. */
public final class Listeners implements ByopListener {
  private static final Logger LOG = LoggerFactory.getLogger(Listeners.class);
  private final List<ByopListener> listeners = new CopyOnWriteArrayList<>();
  private final Redactor secrets;

  public Listeners(List<ByopListener> initial) {
    this(initial, new Redactor());
  }

  /** @param secrets masked in a failing listener's exception before it is logged */
  public Listeners(List<ByopListener> initial, Redactor secrets) {
    listeners.addAll(initial);
    this.secrets = secrets;
  }

  public void add(ByopListener l) {
    listeners.add(l);
  }

  public void remove(ByopListener l) {
    listeners.remove(l);
  }

  private void each(Consumer<ByopListener> call) {
    for (ByopListener l : listeners) {
      try {
        call.accept(l);
      } catch (RuntimeException e) {
        LOG.warn("listener {} failed", l.getClass().getName(), secrets.safe(e));
      }
    }
  }

  @Override
  public void buildStatusChanged(BuildJob job, BuildStatus from) {
    each(l -> l.buildStatusChanged(job, from));
  }

  @Override
  public void previewStatusChanged(Preview preview, PreviewStatus from) {
    each(l -> l.previewStatusChanged(preview, from));
  }

  @Override
  public void logLine(LogLine line) {
    each(l -> l.logLine(line));
  }

  @Override
  public void imageDelivered(dev.byop.core.ImageDelivery delivery) {
    each(l -> l.imageDelivered(delivery));
  }
}
