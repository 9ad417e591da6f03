/**
 * Spring Boot auto-configuration for byop ({@link dev.byop.spring.boot.ByopAutoConfiguration}): a
 * {@link dev.byop.core.Byop} bean from {@code byop.*} properties, health indicators, Micrometer meters.
 */
@NullMarked
package dev.byop.spring.boot;

import org.jspecify.annotations.NullMarked;
