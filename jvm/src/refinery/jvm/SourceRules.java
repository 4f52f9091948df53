package refinery.jvm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One ingest source's record rules (its {@code SourceSettings} and {@code Limits}), as the
 * Python driver hands them over in the {@code rules} option, in JSON:
 * {@code {"format", "source", "text": [names], "text_join", "label", "id", "event_ts",
 * "label_map", "labels", "label_required", "max_text_chars", "max_line_bytes", "encoding"}},
 * and for CSV/TSV {@code "delimiter"} (one character) and {@code "quoting"}
 * ({@code minimal} or {@code none}).
 */
final class SourceRules implements Serializable {
  private static final long serialVersionUID = 1L;

  /** {@code jsonl}, {@code csv} or {@code tsv}. */
  final String format;
  final String source;
  final List<String> text;
  final String textJoin;
  final String label;
  final String id;
  final String eventTs;
  final Map<String, String> labelMap;
  /** {@code null}: any label is allowed. */
  final Set<String> labels;
  final boolean labelRequired;
  final int maxTextChars;
  final long maxLineBytes;
  /** The value of the {@code encoding} column of a record decoded here. */
  final String encoding;
  /** CSV/TSV: the field delimiter; whether {@code "} quotes a field. */
  final char delimiter;
  final boolean quoted;
  /** The keys that are not {@code meta}: the text, label, id and event_ts columns. */
  final Set<String> used;

  private SourceRules(JsonNode node) {
    format = node.get("format").asText();
    source = node.get("source").asText();
    text = new ArrayList<>();
    node.get("text").forEach(n -> text.add(n.asText()));
    textJoin = node.get("text_join").asText();
    label = optional(node, "label");
    id = optional(node, "id");
    eventTs = optional(node, "event_ts");
    labelMap = new HashMap<>();
    node.get("label_map").fields().forEachRemaining(e -> labelMap.put(e.getKey(), e.getValue().asText()));
    JsonNode allowed = node.get("labels");
    if (allowed == null || allowed.isNull()) {
      labels = null;
    } else {
      labels = new HashSet<>();
      allowed.forEach(n -> labels.add(n.asText()));
    }
    labelRequired = node.get("label_required").asBoolean();
    maxTextChars = node.get("max_text_chars").asInt();
    maxLineBytes = node.get("max_line_bytes").asLong();
    encoding = node.get("encoding").asText();
    String delimiterText = optional(node, "delimiter");
    delimiter = delimiterText == null ? ',' : delimiterText.charAt(0);
    quoted = !"none".equals(optional(node, "quoting"));
    used = new HashSet<>(text);
    for (String name : new String[] {label, id, eventTs}) {
      if (name != null) {
        used.add(name);
      }
    }
  }

  private static String optional(JsonNode node, String key) {
    JsonNode value = node.get(key);
    return value == null || value.isNull() ? null : value.asText();
  }

  static SourceRules fromJson(String json) {
    try {
      return new SourceRules(new ObjectMapper().readTree(json));
    } catch (IOException e) {
      throw new UncheckedIOException("refinery-lines: bad 'rules' option", e);
    }
  }
}
