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

  JsonlRecord(SourceRules rules) {
    this.good = new GoodRecord(rules);
    this.factory = JsonFactory.builder()
        .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .streamReadConstraints(StreamReadConstraints.builder()
            .maxStringLength(Integer.MAX_VALUE).maxNumberLength(MAX_INT_DIGITS).build())
        .build();
  }

  @Override
  public GoodRecord.Fields parse(byte[] bytes, int off, int len, LinesSource.Range range, long lineNo) {
    if (!startsAnObject(bytes, off, len) || !PyText.isUtf8(bytes, off, off + len)) {
      return null;
    }
    Map<String, String> values = object(bytes, off, len);
    return values == null ? null : good.of(values, range.pathLabel(), null);
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

  /** The object's values as Python's {@code records._as_text} renders them (null kept), or
   * {@code null} for anything this class does not handle. */
  private Map<String, String> object(byte[] bytes, int off, int len) {
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
          case VALUE_STRING -> value = parser.getText();
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
