/** The example host application. */
@NullMarked
package dev.byop.examples;

import org.jspecify.annotations.NullMarked;
