/** BuildKit client internals: transport bridges, the session server, file sync, progress, git; not a public API. */
@NullMarked
package dev.byop.buildkit.internal;

import org.jspecify.annotations.NullMarked;
