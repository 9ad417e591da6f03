package dev.byop.docker;

import org.jspecify.annotations.Nullable;

/**
 * One line of the engine's JSON progress stream (push, load).
 *
 * @param id layer id or tag the line is about, if any
 * @param status status text ({@code Pushing}, {@code Pushed}, {@code Loaded image: …})
 * @param current bytes done, or -1
 * @param total bytes in all, or -1
 */
public record ProgressMessage(@Nullable String id, String status, long current, long total) {}
