package refinery.jvm;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A structured record (column name → text, null kept, in the record's column order) → the
 * good ingest record Python's {@code records._finish} makes of it, or {@code null} when any of
 * its rules would refuse it (then Python decides, and says why).
 *
 * <p>The rules: every text column present; the text (joined by {@code text_join} when there
 * are several) not null, not blank and at most {@code max_text_chars} code points; the label
 * (or the path's label) stripped, mapped by {@code label_map}, present when required and in
 * the allowed set; the id not blank when an id column is set. {@code meta} is every other
 * column with a value.
 *
 * <p>{@code content_hash} is SHA-256 (hex) of the UTF-8 bytes of the compact JSON
 * {@code [text, label, {meta sorted by key}]}, as {@code records.content_hash} writes it.
 */
final class GoodRecord {
  /** A good record's fields (the line's place is the reader's). */
  static final class Fields {
    /** The text, or {@code null} when it is given as {@link #textUtf8}. */
    String text;
    /** The text's UTF-8 bytes, when it was decoded to them ({@link JsonStringBytes}). */
    byte[] textUtf8;
    String label;
    String rawId;
    String rawEventTs;
    Map<String, String> meta;
    String contentHash;
  }

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private final SourceRules rules;
  private final MessageDigest sha256;
  private final JsonUtf8 canonical = new JsonUtf8();

  GoodRecord(SourceRules rules) {
    this.rules = rules;
    try {
      this.sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The good record of {@code values}, or {@code null}; {@code metaKeys} maps a column name
   * to its {@code meta} key ({@code null}: the name itself). */
  Fields of(Map<String, String> values, String pathLabel, Map<String, String> metaKeys) {
    return of(values, null, pathLabel, metaKeys);
  }

  /** As {@link #of(Map, String, Map)}, with the one text column's value given as its UTF-8
   * bytes ({@code textUtf8}, not in {@code values}) when it is not {@code null}. */
  Fields of(Map<String, String> values, JsonStringBytes textUtf8, String pathLabel, Map<String, String> metaKeys) {
    String text = null;
    if (textUtf8 != null) {
      // a value has no more code points than bytes: count them only when it might be over
      boolean overLong = textUtf8.length() > rules.maxTextChars && textUtf8.pyLength() > rules.maxTextChars;
      if (rules.text.size() != 1 || textUtf8.isBlank() || overLong) {
        return null;
      }
    } else {
      text = joinedText(values);
      if (text == null || PyText.isBlank(text) || PyText.pyLength(text) > rules.maxTextChars) {
        return null;
      }
    }
    return finish(values, text, textUtf8, pathLabel, metaKeys);
  }

  /** The text column's value, or the text columns' non-empty values joined by
   * {@code text_join}; {@code null} when a text column is missing or its only value is null. */
  private String joinedText(Map<String, String> values) {
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
    return text;
  }

  private Fields finish(Map<String, String> values, String text, JsonStringBytes textUtf8, String pathLabel,
      Map<String, String> metaKeys) {
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
        String key = entry.getKey();
        meta.put(metaKeys == null ? key : metaKeys.getOrDefault(key, key), entry.getValue());
      }
    }
    Fields fields = new Fields();
    fields.text = text;
    fields.textUtf8 = textUtf8 == null ? null : textUtf8.copy();
    fields.label = label;
    fields.rawId = rawId;
    fields.rawEventTs = rules.eventTs == null ? null : values.get(rules.eventTs);
    fields.meta = meta;
    fields.contentHash = contentHash(text, textUtf8, label, meta);
    return fields;
  }

  /** {@code records.content_hash(text, label, meta)}, the text given as {@code text} or, when
   * that is {@code null}, as its UTF-8 bytes. */
  String contentHash(String text, JsonStringBytes textUtf8, String label, Map<String, String> meta) {
    JsonUtf8 out = canonical;
    out.reset();
    out.ascii('[');
    if (text != null) {
      out.jsonString(text);
    } else {
      textUtf8.writeCanonical(out);
    }
    out.ascii(',');
    if (label == null) {
      out.ascii("null");
    } else {
      out.jsonString(label);
    }
    out.ascii(",{");
    List<String> keys = new ArrayList<>(meta.keySet());
    keys.sort(PyText::compareCodePoints);
    boolean first = true;
    for (String key : keys) {
      if (!first) {
        out.ascii(',');
      }
      first = false;
      out.jsonString(key);
      out.ascii(':');
      out.jsonString(meta.get(key));
    }
    out.ascii("}]");
    byte[] digest = out.digest(sha256);
    char[] hex = new char[64];
    for (int i = 0; i < 32; i++) {
      hex[2 * i] = HEX[(digest[i] >> 4) & 0xf];
      hex[2 * i + 1] = HEX[digest[i] & 0xf];
    }
    return new String(hex);
  }
}
