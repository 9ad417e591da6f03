package dev.byop.examples;

import dev.byop.core.App;
import dev.byop.core.BuildConfig;
import dev.byop.core.BuildJob;
import dev.byop.core.Byop;
import dev.byop.core.ByopConfig;
import dev.byop.core.ByopListener;
import dev.byop.core.Component;
import dev.byop.core.GitSource;
import dev.byop.core.LogLine;
import dev.byop.core.Preview;
import java.nio.file.Path;
import java.time.Duration;

/** The README's quick-start snippet, compiled with the tests; {@link QuickStartSnippetTest} keeps the README in step. */
final class QuickStartSnippet {
  private QuickStartSnippet() {}

  static void run() {
    // README:start
    try (Byop byop = Byop.builder()
        .config(ByopConfig.load(Path.of("byop.yml")))          // or ByopConfig.defaults()
        .discover(Thread.currentThread().getContextClassLoader())
        .listener(new ByopListener() {
          @Override public void logLine(LogLine line) { System.out.println(line.text()); }
        })
        .build()) {
      GitSource source = GitSource.of("https://github.com/acme/shop.git").withRef("main");
      byop.store().saveApp(App.of("shop", Component.of("web", source, 8080)));

      BuildJob job = byop.orchestrator().requestBuild("shop", BuildConfig.defaults());
      job = byop.orchestrator().await(job.id(), Duration.ofMinutes(15));
      System.out.println(job.status() + " " + job.image() + " " + job.digest());

      Preview preview = byop.previews().createPreview("shop");
      preview = byop.previews().await(preview.id(), Duration.ofMinutes(15));
      System.out.println(preview.status() + " " + preview.url());
    }
    // README:end
  }
}
