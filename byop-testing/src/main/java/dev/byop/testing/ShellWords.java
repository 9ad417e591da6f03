package dev.byop.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A corpus of words that break naive shell quoting, for tests of anything that turns argument lists into shell text
 * (byop's own quoting, and a host's commands built on it).
 */
public final class ShellWords {
  private ShellWords() {}

  /** Every printable ASCII shell metacharacter, alone and in context. */
  public static final String METAS = "|&;<>()$`\\\"' \t\n*?[]#~=%!{}^,:@+-";

  /** Hostile shell words: every metacharacter alone and in context, quotes, expansions, control characters,
   * newlines, option-like words and non-ASCII text. */
  public static Stream<String> words() {
    List<String> w = new ArrayList<>();
    w.add("");
    w.add("plain");
    w.add("two words");
    w.add("'");
    w.add("''");
    w.add("it's");
    w.add("'quoted'");
    w.add("\"double\"");
    w.add("a\"b'c\"d'e");
    w.add("$(touch /tmp/byop-ssh-pwned)");
    w.add("`touch /tmp/byop-ssh-pwned`");
    w.add("${HOME}");
    w.add("$HOME");
    w.add("$1 $@ $* $$ $? $!");
    w.add("*");
    w.add("/*");
    w.add("?");
    w.add("[a-z]*");
    w.add("{a,b}");
    w.add("~");
    w.add("~root");
    w.add("a;b");
    w.add("a && b || c");
    w.add("a | b");
    w.add("> /tmp/byop-ssh-pwned");
    w.add("< /etc/passwd");
    w.add("#comment");
    w.add("line1\nline2");
    w.add("\n");
    w.add("trailing newline\n");
    w.add("cr\r\n");
    w.add("tab\there");
    w.add("back\\slash");
    w.add("\\");
    w.add("\\'");
    w.add("'\\''");
    w.add("-n");
    w.add("--");
    w.add("-e \\x41");
    w.add("ünïcödé ✓ 日本語 🚀");
    w.add("\u00a0nbsp");
    w.add("\u001b[31mescape");
    w.add(METAS);
    for (char c : METAS.toCharArray()) {
      w.add(String.valueOf(c));
      w.add("x" + c + "y");
    }
    for (char c = 1; c < 32; c++) {
      w.add("ctl" + c + "end");
    }
    w.add("\u007f");
    return w.stream();
  }
}
