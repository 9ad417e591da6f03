package dev.byop.testkit;

import dev.byop.core.Byop;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * A JUnit 5 extension that hands each test method a fresh {@link Byop} on the in-memory store with the scripted
 * providers, closed after the test: parameters of type {@link Byop}, {@link ByopFakes} and {@link ByopTestKit}.
 *
 * <pre>{@code
 * @ExtendWith(ByopExtension.class)
 * class ShopTest {
 *   @Test void fails(Byop byop, ByopFakes fakes) { fakes.failAt(BuildStatus.BUILDING, "no"); … }
 * }
 * }</pre>
 *
 * With configuration or listeners of its own, register it:
 * {@code @RegisterExtension static ByopExtension byop = new ByopExtension(() -> ByopTestKit.builder().config(…));}
 */
public final class ByopExtension implements ParameterResolver, AfterEachCallback {
  private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(ByopExtension.class);
  private final Supplier<ByopTestKit.Builder> kits;

  /** Every test gets a kit with the defaults. */
  public ByopExtension() {
    this(ByopTestKit::builder);
  }

  /** Every test gets a kit from a new builder of {@code kits}. */
  public ByopExtension(Supplier<ByopTestKit.Builder> kits) {
    this.kits = kits;
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> t = parameter.getParameter().getType();
    return t == Byop.class || t == ByopFakes.class || t == ByopTestKit.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    ByopTestKit kit = kit(context);
    Class<?> t = parameter.getParameter().getType();
    if (t == Byop.class) return kit.byop();
    if (t == ByopFakes.class) return kit.fakes();
    return kit;
  }

  /** The current test's kit, made on first use. */
  private ByopTestKit kit(ExtensionContext context) {
    if (context.getTestMethod().isEmpty()) {
      throw new org.junit.jupiter.api.extension.ParameterResolutionException(
          "ByopExtension gives a Byop to test methods only (each test its own), not to constructors or @BeforeAll");
    }
    return context.getStore(NS).getOrComputeIfAbsent(ByopTestKit.class, k -> kits.get().build(), ByopTestKit.class);
  }

  @Override
  public void afterEach(ExtensionContext context) {
    // closed here, not left to the store, so the order is certain: the Byop before the next test starts
    ByopTestKit kit = context.getStore(NS).remove(ByopTestKit.class, ByopTestKit.class);
    if (kit != null) kit.close();
  }
}
