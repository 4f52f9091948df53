package refinery.jvm;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One JSONL line → the good ingest record Python's {@code records.parse_range} makes of it, or
 * {@code null} when this class is not certain of that record: then the line goes to Python,
 * whose rules decide (quarantine, filter, or a good record of a shape not handled here).
 *
 * <p>Handled: well-formed UTF-8; one JSON object whose values are strings, integers, booleans
 * or null (no floats: Python's {@code repr} of a float is not Java's; no nested values); no
 * duplicate key, no lone surrogate; a record that passes every rule of
 * {@code records._finish} ({@link GoodRecord}). Everything else returns {@code null}. So the
 * fast path never decides a refusal.
 */
final class JsonlRecord implements LineRecords {
  /** Longer integer literals go to Python (which refuses those over 4,300 digits). */
  private static final int MAX_INT_DIGITS = 1000;

  private final GoodRecord good;
  private final JsonFactory factory;
  /** The one text column's key, whose string value is decoded to UTF-8 bytes by
   * {@link JsonStringBytes} ({@code null} when the text joins several columns). */
  private final String textKey;
  private final JsonStringBytes text = new JsonStringBytes();
  /** Where the text's literal lies in the line being parsed (-1: not decoded that way). */
  private int textStart;
  private int textEnd;
  /** The line with the text's literal replaced by {@code ""} ({@link #object}). */
  private byte[] spliced = new byte[1 << 12];
  /** What {@link #values} returns when it has decoded the text and stopped. */
  private static final Map<String, String> TEXT_DECODED = java.util.Collections.unmodifiableMap(new LinkedHashMap<>());

  JsonlRecord(SourceRules rules) {
    this.good = new GoodRecord(rules);
    this.textKey = rules.text.size() == 1 ? rules.text.get(0) : null;
    this.factory = JsonFactory.builder()
        .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .streamReadConstraints(StreamReadConstraints.builder()
            .maxStringLength(Integer.MAX_VALUE).maxNumberLength(MAX_INT_DIGITS).build())
        .build();
  }

  @Override
  public GoodRecord.Fields parse(byte[] bytes, int off, int len, LinesSource.Range range, long lineNo) {
    if (!startsAnObject(bytes, off, len)) {
      return null;
    }
    textStart = -1;
    Map<String, String> values = object(bytes, off, len);
    if (values == null) {
      return null;
    }
    // the text's literal was checked as it was decoded; the rest of the line is checked here
    // (both cuts fall on a quote, so no character is split)
    boolean utf8 = textStart < 0
        ? PyText.isUtf8(bytes, off, off + len)
        : PyText.isUtf8(bytes, off, textStart) && PyText.isUtf8(bytes, textEnd, off + len);
    return utf8 ? good.of(values, textStart < 0 ? null : text, range.pathLabel(), null) : null;
  }

  /** True when the line's first byte after JSON whitespace is {@code '{'} and none of its
   * first four bytes is 0x00: Jackson guesses a byte source's encoding (UTF-16/32, or a BOM to
   * skip) from those bytes, where Python reads a decoded line and refuses them. */
  private static boolean startsAnObject(byte[] bytes, int off, int len) {
    for (int i = off; i < off + Math.min(len, 4); i++) {
      if (bytes[i] == 0) {
        return false;
      }
    }
    for (int i = off; i < off + len; i++) {
      byte b = bytes[i];
      if (b == '{') {
        return true;
      }
      if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
        return false;
      }
    }
    return false;
  }

  /** Decodes the string literal of the current token, the text, into {@link #text}; false
   * when {@link JsonStringBytes} does not decode it (then Jackson does). */
  private boolean decodedText(JsonParser parser, byte[] bytes, int off, int len) {
    long at = parser.currentTokenLocation().getByteOffset();
    int quote = off + (int) at;
    if (at < 0 || at >= len || bytes[quote] != '"') {
      return false;
    }
    int end = text.decode(bytes, quote, off + len);
    if (end < 0) {
      return false;
    }
    textStart = quote;
    textEnd = end;
    return true;
  }

  /** The object's values as Python's {@code records._as_text} renders them (null kept), or
   * {@code null} for anything this class does not handle.
   *
   * <p>Once the text's literal is decoded ({@link #decodedText}), the object is parsed again
   * with that literal replaced by {@code ""}: Jackson would otherwise read the text once more
   * only to step over it, which for a long text cost about a sixth of the whole read. The two
   * lines tokenize alike, for the literal is a well-formed JSON string (the decoder is stricter
   * than JSON), so Jackson's verdict on the rest of the line is the same. */
  private Map<String, String> object(byte[] bytes, int off, int len) {
    Map<String, String> values = values(bytes, off, len, -1);
    if (values != TEXT_DECODED) {
      return values;
    }
    int head = textStart - off;
    int tail = off + len - textEnd;
    if (spliced.length < head + 2 + tail) {
      spliced = new byte[Math.max(head + 2 + tail, 2 * spliced.length)];
    }
    System.arraycopy(bytes, off, spliced, 0, head);
    spliced[head] = '"';
    spliced[head + 1] = '"';
    System.arraycopy(bytes, textEnd, spliced, head + 2, tail);
    return values(spliced, 0, head + 2 + tail, head);
  }

  /** The values of the object in {@code bytes[off, off + len)}, or {@code null}. With
   * {@code textAt} -1, the first string value of the text's key is decoded into {@link #text}
   * and the parse stops there ({@link #TEXT_DECODED}); else the string literal at offset
   * {@code textAt} is the text's, already decoded, and is left out. */
  private Map<String, String> values(byte[] bytes, int off, int len, int textAt) {
    try (JsonParser parser = factory.createParser(bytes, off, len)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      Map<String, String> values = new LinkedHashMap<>();
      JsonToken token;
      while ((token = parser.nextToken()) == JsonToken.FIELD_NAME) {
        String key = parser.currentName();
        String value;
        switch (parser.nextToken()) {
          case VALUE_STRING -> {
            if (key.equals(textKey)) {
              if (textAt >= 0 && parser.currentTokenLocation().getByteOffset() == textAt) {
                continue; // the text, held by `text`
              }
              if (textAt < 0 && textStart < 0 && decodedText(parser, bytes, off, len)) {
                return TEXT_DECODED;
              }
            }
            value = parser.getText();
          }
          case VALUE_NUMBER_INT -> {
            value = parser.getText();
            if (value.equals("-0")) {
              value = "0";
            }
          }
          case VALUE_TRUE -> value = "true";
          case VALUE_FALSE -> value = "false";
          case VALUE_NULL -> value = null;
          default -> {
            return null;
          }
        }
        if (PyText.hasLoneSurrogate(key) || (value != null && PyText.hasLoneSurrogate(value))) {
          return null;
        }
        values.put(key, value);
      }
      if (token != JsonToken.END_OBJECT || parser.nextToken() != null) {
        return null;
      }
      return values;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }
}
