package refinery.jvm;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One JSONL line → the good ingest record Python's {@code records.parse_range} makes of it, or
 * {@code null} when this class is not certain of that record: then the line goes to Python,
 * whose rules decide (quarantine, filter, or a good record of a shape not handled here).
 *
 * <p>Handled: well-formed UTF-8; one JSON object whose values are strings, integers, booleans
 * or null (no floats: Python's {@code repr} of a float is not Java's; no nested values); no
 * duplicate key, no lone surrogate; a record that passes every rule of
 * {@code records._finish} (text present and not blank, at most {@code max_text_chars} code
 * points, label present when required and in the allowed set, id not blank when an id column
 * is set). Everything else returns {@code null}. So the fast path never decides a refusal.
 *
 * <p>{@code content_hash} is SHA-256 (hex) of the UTF-8 bytes of the compact JSON
 * {@code [text, label, {meta sorted by key}]}, as {@code records.content_hash} writes it.
 */
final class JsonlRecord {
  /** A good record's fields (the line's place is the reader's). */
  static final class Fields {
    String text;
    String label;
    String rawId;
    String rawEventTs;
    Map<String, String> meta;
    String contentHash;
  }

  private static final char[] HEX = "0123456789abcdef".toCharArray();
  /** Longer integer literals go to Python (which refuses those over 4,300 digits). */
  private static final int MAX_INT_DIGITS = 1000;

  private final SourceRules rules;
  private final JsonFactory factory;
  private final MessageDigest sha256;
  private final StringBuilder canonical = new StringBuilder(4096);

  JsonlRecord(SourceRules rules) {
    this.rules = rules;
    this.factory = JsonFactory.builder()
        .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .streamReadConstraints(StreamReadConstraints.builder()
            .maxStringLength(Integer.MAX_VALUE).maxNumberLength(MAX_INT_DIGITS).build())
        .build();
    try {
      this.sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The record of {@code bytes[off, off+len)}, or {@code null} (Python decides). */
  Fields parse(byte[] bytes, int off, int len, String pathLabel) {
    if (!startsAnObject(bytes, off, len) || !PyText.isUtf8(bytes, off, off + len)) {
      return null;
    }
    Map<String, String> values = object(bytes, off, len);
    return values == null ? null : record(values, pathLabel);
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

  private Fields record(Map<String, String> values, String pathLabel) {
    List<String> parts = new ArrayList<>(rules.text.size());
    for (String ref : rules.text) {
      if (!values.containsKey(ref)) {
        return null;
      }
      parts.add(values.get(ref));
    }
    String text;
    if (parts.size() == 1) {
      text = parts.get(0);
    } else {
      StringBuilder joined = new StringBuilder();
      for (String part : parts) {
        if (part != null && !part.isEmpty()) {
          if (joined.length() > 0) {
            joined.append(rules.textJoin);
          }
          joined.append(part);
        }
      }
      text = joined.toString();
    }
    if (text == null || PyText.isBlank(text) || PyText.pyLength(text) > rules.maxTextChars) {
      return null;
    }
    String label = rules.label == null ? null : values.get(rules.label);
    if (label == null) {
      label = pathLabel;
    }
    if (label != null) {
      String stripped = PyText.strip(label);
      label = rules.labelMap.getOrDefault(stripped, stripped);
      if (label.isEmpty()) {
        label = null;
      }
    }
    String rawId = rules.id == null ? null : values.get(rules.id);
    if (rules.id != null && (rawId == null || PyText.isBlank(rawId))) {
      return null;
    }
    if (label == null ? rules.labelRequired : rules.labels != null && !rules.labels.contains(label)) {
      return null;
    }
    Map<String, String> meta = new LinkedHashMap<>();
    for (Map.Entry<String, String> entry : values.entrySet()) {
      if (entry.getValue() != null && !rules.used.contains(entry.getKey())) {
        meta.put(entry.getKey(), entry.getValue());
      }
    }
    Fields fields = new Fields();
    fields.text = text;
    fields.label = label;
    fields.rawId = rawId;
    fields.rawEventTs = rules.eventTs == null ? null : values.get(rules.eventTs);
    fields.meta = meta;
    fields.contentHash = contentHash(text, label, meta);
    return fields;
  }

  /** {@code records.content_hash(text, label, meta)}. */
  String contentHash(String text, String label, Map<String, String> meta) {
    StringBuilder out = canonical;
    out.setLength(0);
    out.append('[');
    PyText.appendJsonString(out, text);
    out.append(',');
    if (label == null) {
      out.append("null");
    } else {
      PyText.appendJsonString(out, label);
    }
    out.append(",{");
    List<String> keys = new ArrayList<>(meta.keySet());
    keys.sort(PyText::compareCodePoints);
    boolean first = true;
    for (String key : keys) {
      if (!first) {
        out.append(',');
      }
      first = false;
      PyText.appendJsonString(out, key);
      out.append(':');
      PyText.appendJsonString(out, meta.get(key));
    }
    out.append("}]");
    byte[] digest = sha256.digest(out.toString().getBytes(StandardCharsets.UTF_8));
    char[] hex = new char[64];
    for (int i = 0; i < 32; i++) {
      hex[2 * i] = HEX[(digest[i] >> 4) & 0xf];
      hex[2 * i + 1] = HEX[digest[i] & 0xf];
    }
    return new String(hex);
  }
}
