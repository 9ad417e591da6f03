/** Internals of the registry client: HTTP transport, authentication, retries; not part of the API. */
@NullMarked
package dev.byop.registry.internal;

import org.jspecify.annotations.NullMarked;
