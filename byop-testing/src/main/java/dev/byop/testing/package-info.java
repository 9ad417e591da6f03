/** Test support: find the peers of the byop test bed (Docker, registry, sshd, PostgreSQL, Caddy, VPS hosts). */
@NullMarked
package dev.byop.testing;

import org.jspecify.annotations.NullMarked;
