package refinery.jvm;

/**
 * Python's string semantics where the ingest record rules depend on them, so that a record
 * built here is the record {@code refinery.sources.records} builds in Python.
 *
 * <ul>
 *   <li>{@link #isSpace}: {@code str.isspace()} (29 code points, all in the BMP);
 *   <li>{@link #strip}: {@code str.strip()};
 *   <li>{@link #compareCodePoints}: Python's {@code str} ordering (by code point, where Java's
 *       {@code compareTo} orders UTF-16 units and so puts U+E000..U+FFFF after astral characters);
 *   <li>{@link #hasLoneSurrogate}: a string Python holds but cannot encode as UTF-8.
 * </ul>
 */
final class PyText {
  private PyText() {}

  /** {@code chr(c).isspace()} in Python 3.11. */
  static boolean isSpace(char c) {
    if (c <= 0x20) {
      return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
    }
    if (c < 0x85) {
      return false;
    }
    return c == 0x85 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028
        || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
  }

  /** {@code s.strip()}. */
  static String strip(String s) {
    int start = 0;
    int end = s.length();
    while (start < end && isSpace(s.charAt(start))) {
      start++;
    }
    while (end > start && isSpace(s.charAt(end - 1))) {
      end--;
    }
    return start == 0 && end == s.length() ? s : s.substring(start, end);
  }

  /** {@code not s.strip()}. */
  static boolean isBlank(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (!isSpace(s.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  /** {@code len(s)}: code points, not UTF-16 units. */
  static int pyLength(String s) {
    return s.codePointCount(0, s.length());
  }

  /** True when {@code s} holds a surrogate that is not half of a proper pair. */
  static boolean hasLoneSurrogate(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
          continue;
        }
        return true;
      }
      if (Character.isLowSurrogate(c)) {
        return true;
      }
    }
    return false;
  }

  /** Python's {@code a < b} ordering of strings, as a comparator result. */
  static int compareCodePoints(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i);
      int cb = b.codePointAt(j);
      if (ca != cb) {
        return Integer.compare(ca, cb);
      }
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return Integer.compare(a.length() - i, b.length() - j);
  }

  /** True when {@code bytes[from, to)} is well-formed UTF-8 (what Python's strict
   * {@code bytes.decode("utf-8")} accepts: no overlong forms, no surrogates, nothing past
   * U+10FFFF). */
  static boolean isUtf8(byte[] bytes, int from, int to) {
    int i = from;
    while (i < to) {
      if (bytes[i] >= 0) {
        i++;
        continue;
      }
      int n = utf8SequenceLength(bytes, i, to);
      if (n < 0) {
        return false;
      }
      i += n;
    }
    return true;
  }

  /** The length of the well-formed UTF-8 sequence of more than one byte that starts at
   * {@code bytes[i]} and ends before {@code to}, or -1 ({@link #isUtf8}'s rule). */
  static int utf8SequenceLength(byte[] bytes, int i, int to) {
    int b = bytes[i] & 0xff;
    if (b < 0xc2) {
      return -1;
    }
    if (b < 0xe0) {
      return i + 1 < to && (bytes[i + 1] & 0xc0) == 0x80 ? 2 : -1;
    }
    if (b < 0xf0) {
      if (i + 2 >= to) {
        return -1;
      }
      int b1 = bytes[i + 1] & 0xff;
      int lo = b == 0xe0 ? 0xa0 : 0x80;
      int hi = b == 0xed ? 0x9f : 0xbf;
      return b1 >= lo && b1 <= hi && (bytes[i + 2] & 0xc0) == 0x80 ? 3 : -1;
    }
    if (b < 0xf5) {
      if (i + 3 >= to) {
        return -1;
      }
      int b1 = bytes[i + 1] & 0xff;
      int lo = b == 0xf0 ? 0x90 : 0x80;
      int hi = b == 0xf4 ? 0x8f : 0xbf;
      boolean tail = (bytes[i + 2] & 0xc0) == 0x80 && (bytes[i + 3] & 0xc0) == 0x80;
      return b1 >= lo && b1 <= hi && tail ? 4 : -1;
    }
    return -1;
  }
}
