package dev.byop.preview.ssh;

import dev.byop.core.Secret;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/** One cloud's instance API as {@link InstancePool} needs it (OVH, Hetzner Cloud). */
interface CloudInstances {

  /** The provider's id: {@code ovh}, {@code hetzner}. */
  String provider();

  /** The instances in scope (the project; for Hetzner those with byop's owner label), with what marks them. */
  List<Instance> list();

  /**
   * Creates one instance carrying byop's marker and the idempotency {@code token}; a failed or timed-out create is
   * looked up by that token before it is sent again, so this makes at most one instance per token; {@code userData}
   * is the instance's cloud-init user data (null: none).
   */
  Instance create(String token, @Nullable String userData);

  /** Hides {@code secret} (an instance's host key in its user data) in whatever the API calls log or raise. */
  void hide(Secret secret);

  /** The instance, or empty when it is gone. */
  Optional<Instance> get(String id);

  /** Deletes it; an instance already gone is fine. */
  void delete(String id);

  /** An instance's normalised state. */
  enum State { BUILDING, ACTIVE, ERROR, OTHER }

  /**
   * An instance as the provider lists it.
   *
   * @param owner the owner marker it carries, or null when it carries none
   * @param token the idempotency token it was created with, or null
   * @param ipv4 its public IPv4 address, or null (not yet assigned)
   */
  record Instance(String id, String name, State state, @Nullable String ipv4, @Nullable String owner, @Nullable String token,
      Map<String, String> attributes) {}
}
