/**
 * A small Docker Engine API client over the Unix socket: {@link dev.byop.docker.DockerClient}.
 *
 * <p>Hand-written on purpose: {@code java.net.http} cannot speak to a Unix domain socket, and docker-java
 * drags its own Jersey/Jackson/Apache HttpClient versions into every application that embeds byop.
 */
@NullMarked
package dev.byop.docker;

import org.jspecify.annotations.NullMarked;
