package dev.byop.testing;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension for tests that need the test bed: fails the class (never skips it) with a clear message when the
 * bed is not up, and injects {@link Testbed} and a per-class {@link TestDatabase} (created on first use, dropped after
 * the class) into constructors, lifecycle methods and test methods.
 *
 * <p>Use it through {@link RequiresTestbed} or {@code @ExtendWith(TestbedExtension.class)}.
 */
public final class TestbedExtension implements BeforeAllCallback, ParameterResolver {

  private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(TestbedExtension.class);

  /** Creates the extension (JUnit instantiates it). */
  public TestbedExtension() {
    // stateless; per-class state lives in the extension context store
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    testbed(context);
  }

  @Override
  public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
    Class<?> type = parameterContext.getParameter().getType();
    return type == Testbed.class || type == TestDatabase.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
    if (parameterContext.getParameter().getType() == Testbed.class) {
      return testbed(extensionContext);
    }
    ExtensionContext classContext = classContext(extensionContext);
    String hint = classContext.getRequiredTestClass().getSimpleName();
    // JUnit (5.13+) closes AutoCloseable store values when the class's context ends: that drops the database
    return classContext.getStore(NS)
        .getOrComputeIfAbsent("database", k -> testbed(classContext).postgres().createDatabase(hint), TestDatabase.class);
  }

  private static Testbed testbed(ExtensionContext context) {
    return classContext(context).getStore(NS).getOrComputeIfAbsent("testbed", k -> Testbed.get(), Testbed.class);
  }

  private static ExtensionContext classContext(ExtensionContext context) {
    ExtensionContext c = context;
    while (c.getTestMethod().isPresent() && c.getParent().isPresent()) {
      c = c.getParent().get();
    }
    return c;
  }
}
