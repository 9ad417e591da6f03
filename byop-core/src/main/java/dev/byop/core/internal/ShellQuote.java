package dev.byop.core.internal;

import java.util.List;
import java.util.Objects;
import java.util.StringJoiner;

/**
 * The one place where words become a remote POSIX shell command line: every word is single-quoted.
 *
 * <p>An SSH exec request carries one string that the remote user's login shell parses, so argument
 * lists have to be turned into shell text. Single quotes are the only POSIX quoting in which no
 * character is special, so each word is wrapped in {@code '…'} and each embedded {@code '} becomes
 * {@code '\''} (close, escaped quote, reopen). Nothing else is ever needed: {@code $}, backticks,
 * {@code \}, newlines, globs and non-ASCII characters are all literal inside single quotes.
 *
 * <pre>{@code
 * String line = ShellQuote.command(List.of("docker", "image", "inspect", image));
 * }</pre>
 */
public final class ShellQuote {

  private ShellQuote() {}

  /** Quotes one word so that the remote shell passes it through unchanged as a single argument. */
  public static String quote(String word) {
    Objects.requireNonNull(word, "word");
    if (word.indexOf('\0') >= 0) {
      // no shell (and no exec argv) can carry a NUL byte; refuse rather than truncate silently
      throw new IllegalArgumentException("shell word contains a NUL character, which no remote command can receive");
    }
    StringBuilder sb = new StringBuilder(word.length() + 2).append('\'');
    for (int i = 0; i < word.length(); i++) {
      char c = word.charAt(i);
      if (c == '\'') {
        sb.append("'\\''");
      } else {
        sb.append(c);
      }
    }
    return sb.append('\'').toString();
  }

  /** Joins an argument list into one remote command line, quoting every word. */
  public static String command(List<String> argv) {
    if (argv.isEmpty()) {
      throw new IllegalArgumentException("remote command must have at least one word");
    }
    StringJoiner j = new StringJoiner(" ");
    for (String w : argv) {
      j.add(quote(w));
    }
    return j.toString();
  }

  /** Varargs form of {@link #command(List)}. */
  public static String command(String... argv) {
    return command(List.of(argv));
  }
}
