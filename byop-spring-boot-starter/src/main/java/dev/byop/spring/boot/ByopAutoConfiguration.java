package dev.byop.spring.boot;

import dev.byop.core.Byop;
import dev.byop.core.ByopConfig;
import dev.byop.core.ByopListener;
import dev.byop.core.spi.ProviderContext;
import dev.byop.core.spi.ProviderFactory;
import dev.byop.core.spi.Store;
import dev.byop.core.spi.StoreFactory;
import dev.byop.micrometer.ByopMetrics;
import dev.byop.store.jdbc.JdbcStoreFactory;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.io.ResourceLoader;

/**
 * Auto-configures a {@link Byop} bean, closed with the context:
 *
 * <ul>
 *   <li>configuration from the {@code byop.*} properties, the keys of {@code byop.yml} ({@link ByopEnvironment});
 *   <li>the JDBC store on the application's {@code DataSource} when it has exactly one and {@code byop.store} names
 *       no {@code url} or other provider (otherwise byop's own embedded H2 or the configured URL);
 *   <li>providers from the application's {@link ProviderFactory} beans (considered first), then those
 *       {@link java.util.ServiceLoader} finds with the application's class loader;
 *   <li>the application's {@link ByopListener} beans;
 *   <li>with Spring Boot Actuator, a health contributor {@code byop} with one indicator per provider kind;
 *   <li>with Micrometer and {@code byop-micrometer}, a {@link ByopMetrics} {@code MeterBinder}.
 * </ul>
 */
@AutoConfiguration(afterName = "org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration")
public class ByopAutoConfiguration {
  /** The id the application's-DataSource store factory is registered under (the JDBC store's, so it replaces it). */
  static final String DATA_SOURCE_STORE_ID = JdbcStoreFactory.ID;

  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  public Byop byop(ConfigurableEnvironment environment, ResourceLoader resources,
      ObjectProvider<DataSource> dataSource, ObjectProvider<ProviderFactory<?>> factories,
      ObjectProvider<ByopListener> listeners) {
    ByopConfig config = ByopEnvironment.config(environment);
    Byop.Builder b = Byop.builder().config(config);
    DataSource ds = dataSource.getIfUnique();
    if (ds != null && usesApplicationDataSource(config)) b.register(new DataSourceStoreFactory(ds));
    factories.orderedStream().forEach(b::register);
    ClassLoader loader = resources.getClassLoader();
    b.discover(loader != null ? loader : ByopAutoConfiguration.class.getClassLoader());
    listeners.orderedStream().forEach(b::listener);
    return b.build();
  }

  /** The application's DataSource serves unless the store section points elsewhere. */
  static boolean usesApplicationDataSource(ByopConfig config) {
    var store = config.section("store");
    String provider = store.string("provider").orElse(JdbcStoreFactory.ID);
    return provider.equals(JdbcStoreFactory.ID) && !store.has("url");
  }

  /** The JDBC store on the application's DataSource, which stays the application's to close. */
  static final class DataSourceStoreFactory implements StoreFactory {
    private final DataSource dataSource;

    DataSourceStoreFactory(DataSource dataSource) {
      this.dataSource = dataSource;
    }

    @Override
    public String id() {
      return DATA_SOURCE_STORE_ID;
    }

    @Override
    public int priority() {
      return 200;
    }

    @Override
    public Store create(ProviderContext context) {
      // user, password, schema and pool size belong to the application's DataSource here, not to byop
      context.settings().allowOnly("provider");
      return JdbcStoreFactory.open(dataSource);
    }
  }

  // The nested configurations take the Byop bean as a parameter rather than @ConditionalOnBean: member classes are
  // processed before the outer class's bean methods, so that condition would never see the byop bean.

  /** Health indicators, when Spring Boot Actuator is there. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.boot.actuate.health.HealthContributor")
  static class Health {
    @Bean
    @ConditionalOnMissingBean(name = "byopHealthContributor")
    ByopHealth byopHealthContributor(Byop byop) {
      return new ByopHealth(byop);
    }
  }

  /** Meters, when Micrometer and byop-micrometer are there; Spring Boot binds every MeterBinder bean. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = {"io.micrometer.core.instrument.MeterRegistry", "dev.byop.micrometer.ByopMetrics"})
  static class Metrics {
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    ByopMetrics byopMetrics(Byop byop) {
      return new ByopMetrics(byop);
    }
  }
}
