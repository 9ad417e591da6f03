package dev.byop.spring.boot;

import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.env.EnvironmentPostProcessor;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.io.DefaultResourceLoader;

/**
 * Turns Spring Boot's own Flyway off by default when the application has no migrations of its own.
 *
 * <p>Why: byop's store brings {@code flyway-core}, and its presence alone makes Spring Boot run Flyway on the
 * application's {@code DataSource}; that run then refuses the schema as soon as byop's tables are in it ("non-empty
 * schema but no schema history table"), so an application that never used Flyway would fail to start. byop migrates
 * its own tables with its own history table ({@code byop_schema_history}). An application with
 * {@code classpath:db/migration}, or that sets any {@code spring.flyway.enabled} / {@code spring.flyway.locations},
 * is left as it is; the default is the lowest-precedence property source, so any setting wins.
 */
public final class FlywayDefault implements EnvironmentPostProcessor {
  static final String SOURCE = "byop-flyway-default";

  @Override
  public void postProcessEnvironment(ConfigurableEnvironment env, SpringApplication application) {
    apply(env, application.getClassLoader());
  }

  static void apply(ConfigurableEnvironment env, ClassLoader loader) {
    if (env.containsProperty("spring.flyway.enabled") || env.containsProperty("spring.flyway.locations")) return;
    if (new DefaultResourceLoader(loader).getResource("classpath:db/migration").exists()) return;
    env.getPropertySources().addLast(new MapPropertySource(SOURCE, Map.of("spring.flyway.enabled", "false")));
  }
}
