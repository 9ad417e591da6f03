package dev.byop.docker;

/**
 * What {@code GET /version} reports.
 *
 * @param version engine version, e.g. {@code 20.10.24}
 * @param apiVersion highest API version the engine speaks, e.g. {@code 1.41}
 * @param minApiVersion lowest API version the engine accepts
 * @param os engine OS
 * @param arch engine architecture
 */
public record DockerVersion(String version, String apiVersion, String minApiVersion, String os, String arch) {}
