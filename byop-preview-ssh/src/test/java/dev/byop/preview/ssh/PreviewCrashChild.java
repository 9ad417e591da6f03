package dev.byop.preview.ssh;

import dev.byop.core.Byop;
import dev.byop.core.ByopConfig;
import java.nio.file.Path;

/**
 * The host process a crash trial kills: a {@code Byop} from the configuration file given as the only argument, with its
 * preview workers running, until SIGKILL. The store password is a file reference in it.
 */
public final class PreviewCrashChild {
  private PreviewCrashChild() { }

  public static void main(String[] args) throws Exception {
    Byop byop = Byop.builder().config(ByopConfig.load(Path.of(args[0]))).register(new PrebuiltImages.Factory())
        .discover(PreviewCrashChild.class.getClassLoader()).build();
    byop.previews(); // the workers start and claim what the store holds
    System.out.println("child byop started");
    new java.util.concurrent.CountDownLatch(1).await(); // until the test kills this process
  }
}
