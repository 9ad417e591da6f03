package dev.byop.core.spi;

import dev.byop.core.ByopConfig;
import dev.byop.core.Settings;
import java.nio.file.Path;

/**
 * What a factory sees when asked whether it applies and when creating its provider.
 *
 * @param config the whole configuration
 * @param settings this provider's own section (e.g. {@code builder.buildkit}); empty when there is none
 * @param dataDir the host's data directory (for caches and embedded databases)
 */
public record ProviderContext(ByopConfig config, Settings settings, Path dataDir) {}
