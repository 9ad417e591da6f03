/** An OCI Distribution registry client and image push. */
@NullMarked
package dev.byop.registry;

import org.jspecify.annotations.NullMarked;
