/**
 * An HTTP API over byop, like the seed's API handler, on the JDK's own HTTP server. The host picks its own web stack;
 * this shows only which byop calls each endpoint makes.
 */
@NullMarked
package dev.byop.examples.api;

import org.jspecify.annotations.NullMarked;
