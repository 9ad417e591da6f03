package dev.byop.preview.ssh;

import dev.byop.core.SecretRef;
import java.util.Objects;

/**
 * Registry mode for the SSH deployer: hosts pull the images from a registry instead of receiving them over SSH.
 *
 * @param registry the registry as the hosts reach it ({@code host[:port]}); image references are re-pointed to it
 * @param user the registry user
 * @param password the registry password, resolved per pull and passed to the host's {@code docker login} on stdin only
 */
public record RegistryDelivery(String registry, String user, SecretRef password) {

    public RegistryDelivery {
        if (registry == null || !registry.matches("[A-Za-z0-9.-]+(:[0-9]{1,5})?")) {
            throw new IllegalArgumentException("registry '" + registry + "' must be host[:port]");
        }
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(password, "password");
    }
}
