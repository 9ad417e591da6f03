package dev.byop.docker;

/**
 * The outcome of a push as the engine reports it in its final {@code aux} message.
 *
 * @param tag the tag pushed
 * @param digest the manifest digest in the registry
 * @param size the manifest size
 */
public record PushResult(String tag, String digest, long size) {}
