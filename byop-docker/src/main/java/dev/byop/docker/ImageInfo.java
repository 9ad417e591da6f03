package dev.byop.docker;

import java.util.List;
import java.util.Map;

/**
 * The parts of {@code GET /images/{name}/json} byop uses.
 *
 * @param id image id (config digest, {@code sha256:…})
 * @param repoTags tags pointing at the image
 * @param repoDigests registry digests known for the image
 * @param size image size in bytes
 * @param layers the rootfs diff ids, bottom first
 * @param labels config labels
 * @param architecture image architecture
 * @param os image OS
 * @param rawJson the whole inspect document
 */
public record ImageInfo(
    String id,
    List<String> repoTags,
    List<String> repoDigests,
    long size,
    List<String> layers,
    Map<String, String> labels,
    String architecture,
    String os,
    String rawJson) {}
