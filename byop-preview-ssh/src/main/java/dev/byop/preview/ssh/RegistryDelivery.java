package dev.byop.preview.ssh;

import dev.byop.core.SecretRef;
import dev.byop.core.ValidationException;
import dev.byop.core.internal.ImageNames;
import java.util.Objects;

/**
 * Registry mode for the SSH deployer: hosts pull the images from a registry instead of receiving them over SSH. They
 * pull {@code <registry>/<namespace>/<app>/<component>:<tag>}, the name a build pushes to ({@link ImageNames#remote}).
 *
 * @param registry the registry as the hosts reach it ({@code host[:port]})
 * @param user the registry user
 * @param password the registry password, resolved per pull and passed to the host's {@code docker login} on stdin only
 * @param namespace the namespace builds push under ({@code registry.namespace}, default {@code byop})
 */
public record RegistryDelivery(String registry, String user, SecretRef password, String namespace) {

  public RegistryDelivery {
    if (registry == null || !registry.matches("[A-Za-z0-9.-]+(:[0-9]{1,5})?")) {
      throw new ValidationException("preview.registry.address", registry, "must be host[:port]");
    }
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(password, "password");
    ImageNames.checkNamespace("registry.namespace", namespace);
  }

  /** Under the default namespace {@value ImageNames#DEFAULT_NAMESPACE}. */
  public RegistryDelivery(String registry, String user, SecretRef password) {
    this(registry, user, password, ImageNames.DEFAULT_NAMESPACE);
  }
}
