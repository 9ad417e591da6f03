package dev.byop.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.byop.core.App;
import dev.byop.core.BuildConfig;
import dev.byop.core.BuildJob;
import dev.byop.core.BuildStatus;
import dev.byop.core.Byop;
import dev.byop.core.Component;
import dev.byop.core.GitSource;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The README's host-application test, compiled and run; {@link ReadmeSnippetTest} keeps the README in step. */
final class ReadmeShopTest {
  private ReadmeShopTest() { }

  // README:start
  @ExtendWith(ByopExtension.class)
  static class ShopBuildTest {
    @Test
    void aPushFailureShowsAsAFailedBuild(Byop byop, ByopFakes fakes) {
      fakes.failAt(BuildStatus.PUSHING, "registry is down");
      byop.store().saveApp(App.of("shop", Component.of("web", GitSource.of("https://git.example/shop.git"), 8080)));
      BuildJob job = byop.orchestrator().requestBuild("shop", BuildConfig.defaults());
      job = byop.orchestrator().await(job.id(), Duration.ofSeconds(10));
      assertEquals(BuildStatus.FAILED, job.status());
    }
  }
  // README:end
}
