package dev.byop.preview.ssh;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.ValidationException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The shipper's back-off: doubling from the first delay, jittered within [half, all], capped at a quarter window. */
class RetryTest {

  @Test
  void delaysDoubleWithJitterAndStayUnderAQuarterOfTheWindow() {
    ImageShipper.Retry r = new ImageShipper.Retry(20, Duration.ofSeconds(1), Duration.ofSeconds(40));
    for (int round = 0; round < 200; round++) {
      for (int failed = 1; failed <= 12; failed++) {
        long base = Math.min(1000L << (failed - 1), 10_000);
        long d = r.delay(failed).toMillis();
        assertTrue(d >= base / 2 && d <= base, "after " + failed + " failures: " + d + " ms, expected within [" + base / 2 + ", " + base + "]");
      }
    }
    // the defaults spend about the whole window on a host that stays away, not 80 ms
    ImageShipper.Retry def = ImageShipper.Retry.defaults();
    long minTotal = 0;
    for (int failed = 1; failed < def.attempts(); failed++) {
      minTotal += Math.min(def.firstDelay().toMillis() << (failed - 1), def.window().toMillis() / 4) / 2;
    }
    assertTrue(minTotal >= 20_000, "at least " + minTotal + " ms of waiting within the default window");
  }

  @Test
  void nonsenseIsRefused() {
    assertThrows(ValidationException.class, () -> new ImageShipper.Retry(0, Duration.ofSeconds(1), Duration.ofSeconds(1)));
    assertThrows(ValidationException.class, () -> new ImageShipper.Retry(3, Duration.ZERO, Duration.ofSeconds(1)));
    assertThrows(ValidationException.class, () -> new ImageShipper.Retry(3, Duration.ofSeconds(1), Duration.ofSeconds(-1)));
  }
}
