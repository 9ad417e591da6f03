package dev.byop.core;

import java.time.Instant;

/**
 * One line of a build job's or preview's log, numbered in order from 1 per owner so readers can resume without gaps
 * or duplicates.
 *
 * @param ownerId the build job or preview id
 * @param seq the line number, from 1
 * @param time when it was written
 * @param text the line, without its newline, with secrets already redacted
 */
public record LogLine(String ownerId, long seq, Instant time, String text) {}
