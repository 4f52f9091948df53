package refinery.jvm;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * A reusable byte buffer that JSON strings are written into as UTF-8, the way
 * {@code json.dumps(..., ensure_ascii=False).encode("utf-8")} writes them, for hashing.
 *
 * <p>Writing the bytes directly costs one pass over each string's characters; building the
 * JSON text as a {@code String} and encoding it costs three (append, copy, encode), and was
 * about 40 % of the JVM reader's time on web-sized records.
 */
final class JsonUtf8 {
  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

  private byte[] buf = new byte[8192];
  private int len;

  /** Empties the buffer. */
  void reset() {
    len = 0;
  }

  /** Appends one ASCII character. */
  void ascii(char c) {
    ensure(1);
    buf[len++] = (byte) c;
  }

  /** Appends an ASCII literal ({@code null}, punctuation). */
  void ascii(String s) {
    ensure(s.length());
    for (int i = 0; i < s.length(); i++) {
      buf[len++] = (byte) s.charAt(i);
    }
  }

  /** Appends {@code json.encoder.encode_basestring(s)} as UTF-8: quotes, backslash-escapes
   * for {@code " \\ \n \r \t \b \f}, {@code \\u00xx} (lower-case hex) for other controls below
   * 0x20, every other character as its UTF-8 bytes. A lone surrogate becomes {@code ?}, as
   * {@code String.getBytes(UTF_8)} writes it (the record rules refuse such text before). */
  void jsonString(String s) {
    int n = s.length();
    ensure(6 * n + 2); // the longest form of one UTF-16 unit: a six-byte escape
    byte[] b = buf;
    int at = len;
    b[at++] = '"';
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        if (c >= 0x20 && c != '"' && c != '\\') {
          b[at++] = (byte) c;
          continue;
        }
        at = escape(b, at, c);
      } else if (c < 0x800) {
        b[at++] = (byte) (0xc0 | (c >> 6));
        b[at++] = (byte) (0x80 | (c & 0x3f));
      } else if (Character.isSurrogate(c)) {
        if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
          int cp = Character.toCodePoint(c, s.charAt(++i));
          b[at++] = (byte) (0xf0 | (cp >> 18));
          b[at++] = (byte) (0x80 | ((cp >> 12) & 0x3f));
          b[at++] = (byte) (0x80 | ((cp >> 6) & 0x3f));
          b[at++] = (byte) (0x80 | (cp & 0x3f));
        } else {
          b[at++] = '?';
        }
      } else {
        b[at++] = (byte) (0xe0 | (c >> 12));
        b[at++] = (byte) (0x80 | ((c >> 6) & 0x3f));
        b[at++] = (byte) (0x80 | (c & 0x3f));
      }
    }
    b[at++] = '"';
    len = at;
  }

  /** Appends {@code bytes[from, from + n)} as they are. */
  void raw(byte[] bytes, int from, int n) {
    ensure(n);
    System.arraycopy(bytes, from, buf, len, n);
    len += n;
  }

  /** Appends the JSON string of the value whose UTF-8 bytes are {@code bytes[0, n)}, as
   * {@link #jsonString} writes it: the same escapes; every byte of a character above U+007F
   * as it is. */
  void jsonString(byte[] bytes, int n) {
    ensure(6 * n + 2);
    byte[] b = buf;
    int at = len;
    b[at++] = '"';
    for (int i = 0; i < n; i++) {
      int c = bytes[i];
      if (c < 0 || (c >= 0x20 && c != '"' && c != '\\')) { // a byte of a longer character, or printable
        b[at++] = (byte) c;
      } else {
        at = escape(b, at, c);
      }
    }
    b[at++] = '"';
    len = at;
  }

  /** Writes the escape of the ASCII character {@code c} (a quote, a backslash or a control
   * below 0x20) at {@code b[at]}: its short form, else {@code \\u00xx} in lower-case hex;
   * returns the index after it. */
  private static int escape(byte[] b, int at, int c) {
    b[at++] = '\\';
    switch (c) {
      case '"' -> b[at++] = '"';
      case '\\' -> b[at++] = '\\';
      case '\n' -> b[at++] = 'n';
      case '\r' -> b[at++] = 'r';
      case '\t' -> b[at++] = 't';
      case '\b' -> b[at++] = 'b';
      case '\f' -> b[at++] = 'f';
      default -> {
        b[at++] = 'u';
        b[at++] = '0';
        b[at++] = '0';
        b[at++] = HEX[c >> 4];
        b[at++] = HEX[c & 0xf];
      }
    }
    return at;
  }

  /** SHA-256 of the bytes written since the last {@link #reset}. */
  byte[] digest(MessageDigest sha256) {
    sha256.update(buf, 0, len);
    return sha256.digest();
  }

  private void ensure(int more) {
    if (len + more > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + more));
    }
  }
}
