/**
 * Registry credentials: configured explicitly, or found the way the Docker CLI finds them (config file, credential
 * helpers); shared by the registry client and the BuildKit builder.
 */
@NullMarked
package dev.byop.core.auth;

import org.jspecify.annotations.NullMarked;
