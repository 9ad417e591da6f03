/** A native Java BuildKit client and source fetching. */
@NullMarked
package dev.byop.buildkit;

import org.jspecify.annotations.NullMarked;
