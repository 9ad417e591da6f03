package dev.byop.preview.ssh;

import java.util.List;

/** The host presented a key that the configured policy does not trust; the connection was closed before authentication. */
public final class HostKeyRejectedException extends SshException {

  private static final long serialVersionUID = 1L;
  private final String host;
  private final String presentedFingerprint;
  private final List<String> expectedFingerprints;

  public HostKeyRejectedException(String host, String presentedFingerprint, List<String> expectedFingerprints, String why) {
    super("host key of " + host + " rejected (" + why + "): presented " + presentedFingerprint + ", expected "
        + (expectedFingerprints.isEmpty() ? "none known" : String.join(" or ", expectedFingerprints))
        + "; nothing was sent");
    this.host = host;
    this.presentedFingerprint = presentedFingerprint;
    this.expectedFingerprints = List.copyOf(expectedFingerprints);
  }

  /** The host (as {@code user@address:port}). */
  public String host() {
    return host;
  }

  /** SHA256 fingerprint of the key the host presented. */
  public String presentedFingerprint() {
    return presentedFingerprint;
  }

  /** SHA256 fingerprints the policy would have accepted (empty when the host was unknown). */
  public List<String> expectedFingerprints() {
    return expectedFingerprints;
  }
}
