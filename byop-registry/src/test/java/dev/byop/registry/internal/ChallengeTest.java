package dev.byop.registry.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ChallengeTest {
  @Test
  void bearerWithQuotedParametersAndSeveralScopes() {
    Challenge c = Challenge.parse("Bearer realm=\"https://auth.example/token\",service=\"registry.example\","
        + "scope=\"repository:a/b:pull,push repository:c:pull\"").get(0);
    assertTrue(c.isBearer());
    assertEquals("https://auth.example/token", c.param("realm"));
    assertEquals("registry.example", c.param("service"));
    assertEquals(List.of("repository:a/b:pull,push", "repository:c:pull"), c.scopes());
  }

  @Test
  void basicWithRealm() {
    Challenge c = Challenge.parse("Basic realm=\"byop-testbed\"").get(0);
    assertTrue(c.isBasic());
    assertEquals("byop-testbed", c.param("realm"));
    assertEquals(List.of(), c.scopes());
  }

  @Test
  void severalChallengesInOneHeaderAndEscapes() {
    List<Challenge> all = Challenge.parse("Basic realm=\"a \\\"q\\\", b\", Bearer realm=\"https://t/x\", error=invalid_token");
    assertEquals(2, all.size());
    assertEquals("a \"q\", b", all.get(0).param("realm"));
    assertEquals("invalid_token", all.get(1).param("error"));
  }

  @Test
  void selectPrefersBearer() {
    Challenge c = Challenge.select(List.of("Basic realm=\"r\"", "Bearer realm=\"https://t\"")).orElseThrow();
    assertTrue(c.isBearer());
  }

  @Test
  void garbageDoesNotLoop() {
    assertEquals(List.of(), Challenge.parse(""));
    assertEquals(1, Challenge.parse("Basic abc==").size());
    Challenge.parse("=\"\"\",,,= = ");
  }
}
