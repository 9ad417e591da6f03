package dev.byop.preview.ssh;

import dev.byop.core.ValidationException;
import dev.byop.core.spi.CloudProvider;
import java.nio.file.Path;
import java.util.Objects;

/**
 * One SSH endpoint: address, port, login user, key and how its host key is verified.
 *
 * @param address host name or IP address
 * @param port TCP port, 1..65535
 * @param user login user
 * @param key private key used for public-key authentication
 * @param hostKeys host key verification policy
 */
public record SshHost(String address, int port, String user, SshKey key, HostKeyPolicy hostKeys) {

  public SshHost {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(hostKeys, "hostKeys");
    if (address.isBlank() || address.chars().anyMatch(c -> c <= ' ')) {
      throw new ValidationException("ssh.address", address, "must be a non-empty host name or IP without spaces");
    }
    if (port < 1 || port > 65535) {
      throw new ValidationException("ssh.port", port, "must be between 1 and 65535");
    }
    if (user.isBlank() || user.chars().anyMatch(c -> c <= ' ' || c == '@')) {
      throw new ValidationException("ssh.user", user, "must be non-empty, without spaces or '@'");
    }
  }

  /** {@code user@address:port}, the pool key and the name used in errors. */
  public String label() {
    return user + "@" + address + ":" + port;
  }

  /** The SSH endpoint of a cloud provider's host; a pinned fingerprint wins over a known_hosts file. */
  public static SshHost of(CloudProvider.RemoteHost h) {
    HostKeyPolicy policy;
    if (h.hostKeyFingerprint() != null) {
      policy = HostKeyPolicy.fingerprint(h.hostKeyFingerprint());
    } else if (h.knownHosts() != null) {
      policy = h.acceptNewHostKey() ? HostKeyPolicy.acceptNew(Path.of(h.knownHosts())) : HostKeyPolicy.knownHosts(Path.of(h.knownHosts()));
    } else {
      throw new ValidationException("hosts[" + h.id() + "].hostKeyFingerprint", null, "neither a host key fingerprint nor a known_hosts file is set; refusing to trust any key");
    }
    return new SshHost(h.address(), h.port(), h.user(), SshKey.secret(h.privateKey()), policy);
  }
}
