/** Local preview environments with Docker Compose and routing. */
@NullMarked
package dev.byop.preview.local;

import org.jspecify.annotations.NullMarked;
