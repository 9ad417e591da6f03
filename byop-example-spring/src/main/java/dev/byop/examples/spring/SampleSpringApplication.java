package dev.byop.examples.spring;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * A Spring Boot application that embeds byop through {@code byop-spring-boot-starter}: the {@code Byop} bean comes
 * from {@code byop.*} properties, its providers from the class path; {@code POST /demo} builds the sample app and
 * starts its preview ({@link DemoController}); {@code /actuator/health} and {@code /actuator/metrics} show byop's
 * state (health per provider, {@code byop.builds}, {@code byop.previews}, …).
 *
 * <pre>
 * ./mvnw -q -pl byop-example-spring -am package -DskipTests
 * java -jar byop-example-spring/target/byop-example-spring-*.jar --byop.data-dir=/tmp/byop-spring
 * curl -X POST localhost:8080/demo ; curl localhost:8080/actuator/health
 * </pre>
 */
@SpringBootApplication
public class SampleSpringApplication {
  public static void main(String[] args) {
    SpringApplication.run(SampleSpringApplication.class, args);
  }
}
