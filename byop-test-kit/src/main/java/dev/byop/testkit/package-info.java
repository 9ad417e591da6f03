/**
 * A test kit for host applications: {@link dev.byop.testkit.ByopExtension} hands a JUnit 5 test a
 * {@link dev.byop.core.Byop} on an in-memory store with scripted builder, registry and deployer
 * ({@link dev.byop.testkit.ByopFakes}) whose outcomes the test decides; no Docker needed.
 */
@NullMarked
package dev.byop.testkit;

import org.jspecify.annotations.NullMarked;
