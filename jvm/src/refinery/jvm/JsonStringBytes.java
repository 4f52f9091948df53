package refinery.jvm;

import java.util.Arrays;

/**
 * Decodes one JSON string literal of UTF-8 bytes straight into the UTF-8 bytes of its value,
 * and answers Python's questions about that value ({@code len}, blankness) on the bytes: no
 * Java {@code String} is made of it.
 *
 * <p>Why: for a web-sized record, turning the text into UTF-16 (Jackson's {@code getText}),
 * back into UTF-8 for Spark ({@code UTF8String.fromString}) and again for the content hash
 * ({@link JsonUtf8#jsonString}), after a separate UTF-8 check of the whole line, was about
 * four fifths of the JVM reader's time. Here each byte of the text is read once.
 *
 * <p>Strict, so that it never decides anything Python would decide otherwise: well-formed
 * UTF-8 only ({@link PyText#isUtf8}'s rule), no raw control character (below 0x20), only the
 * escapes JSON defines, no lone surrogate. Any of those makes {@link #decode} give up, and the
 * caller reads the literal the general way.
 */
final class JsonStringBytes {
  private byte[] buf = new byte[8192];
  private int len;
  /** The literal last decoded, quotes included, and whether it is already written the way
   * {@link JsonUtf8#jsonString} writes the value (as {@code json.dumps(..., ensure_ascii=False)}
   * writes it, so it is for most JSONL): then the content hash reads the literal as it is. */
  private byte[] literal;
  private int literalFrom;
  private int literalTo;
  private boolean canonical;

  /** The value's bytes: {@code bytes()[0, length())}, valid until the next {@link #decode}. */
  byte[] bytes() {
    return buf;
  }

  int length() {
    return len;
  }

  /** True when the literal last decoded is the value's canonical JSON string
   * ({@link #writeCanonical} copies it then). */
  boolean canonical() {
    return canonical;
  }

  /** Appends the value's JSON string to {@code out}, as {@link JsonUtf8#jsonString} writes it:
   * the literal itself when it is written that way already. */
  void writeCanonical(JsonUtf8 out) {
    if (canonical) {
      out.raw(literal, literalFrom, literalTo - literalFrom);
    } else {
      out.jsonString(buf, len);
    }
  }

  /** A copy of the value's bytes. */
  byte[] copy() {
    return Arrays.copyOf(buf, len);
  }

  /** Decodes the literal whose opening quote is {@code bytes[quote]} (the line ends before
   * {@code to}); returns the index just past its closing quote, or -1 when this class does
   * not decode it (see the class comment). */
  int decode(byte[] bytes, int quote, int to) {
    len = 0;
    boolean plain = true; // every escape so far is the one JsonUtf8 writes
    if (buf.length < to - quote) { // a value is never longer than its literal
      buf = new byte[Math.max(to - quote, 2 * buf.length)];
    }
    byte[] out = buf;
    int at = 0;
    int i = quote + 1;
    // bytes that stand for themselves are only checked as they are passed, and copied a run
    // at a time: at each escape and at the closing quote
    int run = i;
    while (i < to) {
      int b = bytes[i];
      if (b >= 0x20 && b != '"' && b != '\\') { // printable ASCII, DEL included
        i++;
      } else if (b == '"') {
        System.arraycopy(bytes, run, out, at, i - run);
        len = at + i - run;
        literal = bytes;
        literalFrom = quote;
        literalTo = i + 1;
        canonical = plain;
        return i + 1;
      } else if (b == '\\') {
        if (i + 1 >= to) {
          return -1;
        }
        System.arraycopy(bytes, run, out, at, i - run);
        at += i - run;
        int e = bytes[i + 1];
        i += 2;
        switch (e) {
          case '"' -> out[at++] = '"';
          case '\\' -> out[at++] = '\\';
          case '/' -> {
            out[at++] = '/';
            plain = false;
          }
          case 'b' -> out[at++] = '\b';
          case 'f' -> out[at++] = '\f';
          case 'n' -> out[at++] = '\n';
          case 'r' -> out[at++] = '\r';
          case 't' -> out[at++] = '\t';
          case 'u' -> {
            int c = hex4(bytes, i, to);
            if (c < 0) {
              return -1;
            }
            plain &= isCanonicalEscape(c, bytes, i);
            i += 4;
            if (Character.isHighSurrogate((char) c)) {
              int low = i + 1 < to && bytes[i] == '\\' && bytes[i + 1] == 'u' ? hex4(bytes, i + 2, to) : -1;
              if (low < 0 || !Character.isLowSurrogate((char) low)) {
                return -1;
              }
              i += 6;
              c = Character.toCodePoint((char) c, (char) low);
            } else if (Character.isLowSurrogate((char) c)) {
              return -1;
            }
            at = utf8(out, at, c);
          }
          default -> {
            return -1;
          }
        }
        run = i;
      } else if (b >= 0) { // a raw control character
        return -1;
      } else {
        int n = PyText.utf8SequenceLength(bytes, i, to);
        if (n < 0) {
          return -1;
        }
        i += n;
      }
    }
    return -1;
  }

  /** {@code len(value)}: its code points. */
  int pyLength() {
    int n = 0;
    for (int i = 0; i < len; i++) {
      if ((buf[i] & 0xc0) != 0x80) {
        n++;
      }
    }
    return n;
  }

  /** {@code not value.strip()} ({@link PyText#isSpace}; every space is in the BMP). */
  boolean isBlank() {
    int i = 0;
    while (i < len) {
      int b = buf[i] & 0xff;
      int c;
      if (b < 0x80) {
        c = b;
        i++;
      } else if (b < 0xe0) {
        c = ((b & 0x1f) << 6) | (buf[i + 1] & 0x3f);
        i += 2;
      } else if (b < 0xf0) {
        c = ((b & 0x0f) << 12) | ((buf[i + 1] & 0x3f) << 6) | (buf[i + 2] & 0x3f);
        i += 3;
      } else {
        return false; // astral: never a space
      }
      if (!PyText.isSpace((char) c)) {
        return false;
      }
    }
    return true;
  }

  /** True when the escape of the unit {@code c} (its four hex digits at {@code bytes[i]}) is
   * how {@link JsonUtf8#jsonString} writes that unit: a control character without a short
   * escape, in lower-case hex. */
  private static boolean isCanonicalEscape(int c, byte[] bytes, int i) {
    if (c >= 0x20 || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
      return false;
    }
    for (int k = 0; k < 4; k++) {
      if (bytes[i + k] >= 'A' && bytes[i + k] <= 'F') {
        return false;
      }
    }
    return true;
  }

  /** The four hex digits at {@code bytes[i]} (either case), or -1. */
  private static int hex4(byte[] bytes, int i, int to) {
    if (i + 4 > to) {
      return -1;
    }
    int v = 0;
    for (int k = 0; k < 4; k++) {
      int d = Character.digit(bytes[i + k], 16);
      if (d < 0) {
        return -1;
      }
      v = (v << 4) | d;
    }
    return v;
  }

  private static int utf8(byte[] out, int at, int c) {
    if (c < 0x80) {
      out[at++] = (byte) c;
    } else if (c < 0x800) {
      out[at++] = (byte) (0xc0 | (c >> 6));
      out[at++] = (byte) (0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
      out[at++] = (byte) (0xe0 | (c >> 12));
      out[at++] = (byte) (0x80 | ((c >> 6) & 0x3f));
      out[at++] = (byte) (0x80 | (c & 0x3f));
    } else {
      out[at++] = (byte) (0xf0 | (c >> 18));
      out[at++] = (byte) (0x80 | ((c >> 12) & 0x3f));
      out[at++] = (byte) (0x80 | ((c >> 6) & 0x3f));
      out[at++] = (byte) (0x80 | (c & 0x3f));
    }
    return at;
  }
}
