package dev.byop.preview.ssh;

import dev.byop.core.spi.CloudProvider;
import java.time.Duration;

/** Waits until a freshly provisioned host is ready for previews, or raises {@link HostNotReadyException}. */
@FunctionalInterface
interface HostReadiness {

  /**
   * @param host the host as reached for the first time (accept-new allowed when byop just created it)
   * @param timeout how long its user data may still take
   */
  void await(CloudProvider.RemoteHost host, Duration timeout);
}
