/**
 * Remote preview environments over SSH, with cloud providers.
 *
 * <p>The {@code ssh} preview deployer ({@link dev.byop.preview.ssh.SshPreviewDeployerFactory}) is the one
 * {@link dev.byop.preview.compose.ComposeDeployer} of {@code byop-preview-compose} working on SSH hosts: a host comes
 * from a {@link dev.byop.core.spi.CloudProvider} ({@link dev.byop.preview.ssh.StaticCloudProvider} {@code static},
 * {@link dev.byop.preview.ssh.OvhCloudProvider} {@code ovh}, {@link dev.byop.preview.ssh.HetznerCloudProvider}
 * {@code hetzner}), one slot per preview; the images reach it as a
 * {@code docker save} stream rewritten without the layers the host already holds, into {@code docker load} on an exec
 * channel, or, with a {@link dev.byop.preview.ssh.RegistryDelivery}, as a pull by the host of exactly what the build
 * pushed (the password on stdin only). Compose files go over SFTP, created {@code 0600} in {@code 0700} directories under
 * {@code ~/byop/previews}; the router (Caddy through its admin API on the host's loopback, reached over a
 * {@code direct-tcpip} channel, or Traefik through labels and the host's docker) and the readiness probe reach the host's
 * ports through the SSH connection.
 *
 * <p>What a host needs: sshd with key login and an SFTP subsystem, Docker Engine with Compose (v2 plugin or v1), and
 * Caddy with its admin API on the host's loopback and an HTTP server for previews (with {@code automatic_https}
 * disabled unless the domain has certificates), or the Traefik image. Host keys are always verified: a known_hosts
 * file, a pinned {@code SHA256:} fingerprint, or, only when configured, accept-new, which records the first-seen key.
 *
 * <p>The provisioning providers ({@code ovh}, {@code hetzner}) share one retrying HTTP layer (429, 5xx and timeouts
 * with full-jitter back-off, {@code Retry-After}; a create is looked up by byop's marker and its idempotency token
 * before it is ever sent again) and one set of keys ({@link dev.byop.preview.ssh.Provisioning}): instances are
 * adopted only by byop's marker, capped, deleted after an idle time with their known_hosts lines, and a new one is
 * used only once its SSH port answers and the readiness check over SSH finds Docker, Compose and the router (installed
 * by the cloud-init user data passed at creation); what is missing is named in a
 * {@link dev.byop.preview.ssh.HostNotReadyException}.
 *
 * <p>Every remote command is an argument list joined by {@link dev.byop.core.internal.ShellQuote}; secrets travel only on
 * stdin. What users configure is public here (hosts, keys, options, host key policies, registry delivery, the cloud
 * providers and factories, the exceptions to catch); the SSH plumbing is package-private.
 */
@NullMarked
package dev.byop.preview.ssh;

import org.jspecify.annotations.NullMarked;
