package dev.byop.preview.ssh;

import java.util.List;

/**
 * A host byop provisioned did not become ready for previews: names what is missing ({@code ssh}, {@code docker},
 * {@code compose}, {@code router}) and why.
 */
public final class HostNotReadyException extends SshException {

  private static final long serialVersionUID = 1L;
  private final String host;
  private final List<String> missing;

  public HostNotReadyException(String host, List<String> missing, String detail) {
    super("host " + host + " is not ready for previews: missing " + String.join(", ", missing) + (detail.isBlank() ? "" : " (" + detail + ")"));
    this.host = host;
    this.missing = List.copyOf(missing);
  }

  /** The host, as {@code <instance id> (<user>@<address>:<port>)}. */
  public String host() {
    return host;
  }

  /** What the readiness check found missing, in check order. */
  public List<String> missing() {
    return missing;
  }
}
