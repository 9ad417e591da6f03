/** Internals of the SSH preview module: host key checking, tar rewriting, byte counting. Not API. */
@NullMarked
package dev.byop.preview.ssh.internal;

import org.jspecify.annotations.NullMarked;
