/** HTTP/1.1 over a socket channel, just enough for the Docker Engine API; not a public API. */
@NullMarked
package dev.byop.docker.internal;

import org.jspecify.annotations.NullMarked;
