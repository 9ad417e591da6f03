package dev.byop.examples.spring;

import dev.byop.core.App;
import dev.byop.core.Byop;
import dev.byop.core.NotFoundException;
import dev.byop.core.Preview;
import dev.byop.examples.SampleApp;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /demo}: makes the sample app's git repository under byop's data directory (once), saves the app and
 * creates its preview, which builds every component as a build job and deploys them; {@code GET /demo/{previewId}}:
 * where that preview stands.
 */
@RestController
class DemoController {
  private final Byop byop;
  private final String baseImage;

  DemoController(Byop byop, @Value("${sample.base-image:busybox:1.36}") String baseImage) {
    this.byop = byop;
    this.baseImage = baseImage;
  }

  @PostMapping("/demo")
  ResponseEntity<Map<String, Object>> start() {
    SampleApp.Repo repo = SampleApp.ensureRepository(byop.config().dataDir());
    App app = byop.store().saveApp(SampleApp.app(repo, baseImage));
    Preview p = byop.previews().createPreview(app.id());
    return ResponseEntity.accepted().location(URI.create("/demo/" + p.id())).body(view(p));
  }

  @GetMapping("/demo/{previewId}")
  Map<String, Object> preview(@PathVariable String previewId) {
    return view(byop.previews().preview(previewId));
  }

  @ExceptionHandler(NotFoundException.class)
  ResponseEntity<Map<String, Object>> notFound(NotFoundException e) {
    return ResponseEntity.status(HttpStatus.NOT_FOUND).body(Map.of("error", e.getMessage()));
  }

  private static Map<String, Object> view(Preview p) {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("id", p.id());
    v.put("appId", p.appId());
    v.put("status", p.status().name());
    v.put("url", p.url());
    v.put("images", p.images());
    v.put("error", p.error());
    return v;
  }
}
