package dev.byop.core.spi;

/**
 * Durable state of byop: apps, build jobs with their leases, logs and previews. Every method is atomic; a status
 * change that does not match the expected current status or lease owner fails with
 * {@link dev.byop.core.StoreException} and changes nothing.
 */
public interface Store extends AppStore, BuildJobStore, LogStore, PreviewStore, AutoCloseable {
  @Override
  void close();
}
