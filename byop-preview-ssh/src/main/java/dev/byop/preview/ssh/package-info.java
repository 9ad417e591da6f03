/**
 * Remote preview environments over SSH, with cloud providers.
 *
 * <p>{@link dev.byop.preview.ssh.SshPreviewDeployer} (provider id {@code ssh}) gets a host from a
 * {@link dev.byop.core.spi.CloudProvider} ({@link dev.byop.preview.ssh.StaticCloudProvider} {@code static},
 * {@link dev.byop.preview.ssh.OvhCloudProvider} {@code ovh}), ships the images with
 * {@link dev.byop.preview.ssh.ImageShipper} (a {@code docker save} stream rewritten without the layers the host already
 * holds, into {@code docker load} on an exec channel; or, in registry mode, a remote pull with the password on stdin),
 * uploads the compose file over SFTP to {@code ~/byop/previews/<id>}, runs {@code docker compose} or
 * {@code docker-compose} there, routes {@code <preview>.<domain>} through the host's Caddy
 * ({@link dev.byop.preview.ssh.CaddyRemoteRouter}, admin API reached over the SSH connection) and reports RUNNING only
 * when the URL answers through that router.
 *
 * <p>What a host needs: sshd with key login and an SFTP subsystem, Docker Engine with Compose (v2 plugin or v1), and
 * Caddy with its admin API on the host's loopback and an HTTP server for previews (with {@code automatic_https}
 * disabled unless the domain has certificates). Host keys are always verified: a known_hosts file, a pinned
 * {@code SHA256:} fingerprint, or — only when configured — accept-new, which records the first-seen key.
 *
 * <p>Every remote command is an argument list joined by {@link dev.byop.core.internal.ShellQuote}; secrets travel only on
 * stdin.
 */
@NullMarked
package dev.byop.preview.ssh;

import org.jspecify.annotations.NullMarked;
