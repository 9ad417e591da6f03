package dev.byop.preview.ssh;

/** Routes a preview's host name to an upstream on the remote host (the remote counterpart of the local router). */
public interface RemoteRouter {

  /** Adds or replaces the route {@code routeId}: requests for {@code hostname} go to {@code upstream} ({@code host:port}). */
  void route(SshConnection on, String routeId, String hostname, String upstream);

  /** Removes the route; absent routes are fine. */
  void remove(SshConnection on, String routeId);

  /**
   * A response header {@code name: value} that only responses through this route carry, so that readiness checks
   * can tell the preview's answer from the router's own default answer; null when the router marks nothing.
   */
  default java.util.Map.Entry<String, String> marker(String routeId) {
    return null;
  }

  /** The port the router serves HTTP on, on the remote host's address. */
  int httpPort();
}
