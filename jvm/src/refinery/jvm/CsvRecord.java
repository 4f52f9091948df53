package refinery.jvm;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One CSV/TSV line of a file read one record per line ({@code multiline: false}, or
 * {@code quoting: none}) → the good ingest record Python's {@code records.parse_range} makes of
 * it, or {@code null} when this class is not certain of that record (then Python decides).
 *
 * <p>The fields are split as Python's {@code csv.reader} splits one line with
 * {@code strict=True} and the source's delimiter: with {@code quoting: minimal}, a field that
 * starts with {@code "} is quoted ({@code ""} inside is one quote) and must end at a delimiter
 * or the line's end; a quote inside an unquoted field is an ordinary character; with
 * {@code quoting: none} every quote is. Handed to Python instead: a line that is empty or
 * blank, holds a carriage return or a NUL, is not UTF-8, ends inside a quoted field, has
 * anything but a delimiter after a closing quote, or has another number of fields than the
 * file's first record; and every line before the file's header or first record.
 *
 * <p>The file's layout (header, field count, the line of its first record: the header when
 * there is one) comes with each range, found by the driver on the file's head; the header line
 * itself makes no record
 * ({@link #skipped}). A header names the columns ({@code dict(zip(header, fields))}: a repeated
 * name keeps its first place and its last value); without one, column {@code i} is named
 * {@code "i"} for the text/label/id references and {@code "col<i>"} in {@code meta}.
 */
final class CsvRecord implements LineRecords {
  private final GoodRecord good;
  private final char delimiter;
  private final boolean quoted;
  private final List<String> fields = new ArrayList<>();
  private final StringBuilder field = new StringBuilder(256);
  private final Map<Integer, Map<String, String>> positionalMetaKeys = new HashMap<>();

  CsvRecord(SourceRules rules) {
    this.good = new GoodRecord(rules);
    this.delimiter = rules.delimiter;
    this.quoted = rules.quoted;
  }

  @Override
  public boolean skipped(LinesSource.Range range, long lineNo) {
    return range.header() != null && lineNo == range.firstLine();
  }

  @Override
  public GoodRecord.Fields parse(byte[] bytes, int off, int len, LinesSource.Range range, long lineNo) {
    int expected = range.expectedFields();
    if (expected < 0 || lineNo < range.firstLine() || len == 0 || !PyText.isUtf8(bytes, off, off + len)) {
      return null;
    }
    String line = new String(bytes, off, len, StandardCharsets.UTF_8);
    if (!split(line) || fields.size() != expected || (expected == 1 && PyText.isBlank(fields.get(0)))) {
      return null;
    }
    List<String> header = range.header();
    Map<String, String> values = new LinkedHashMap<>();
    for (int i = 0; i < expected; i++) {
      values.put(header == null ? Integer.toString(i) : header.get(i), fields.get(i));
    }
    Map<String, String> metaKeys = header == null ? positionalMetaKeys(expected) : null;
    return good.of(values, range.pathLabel(), metaKeys);
  }

  /** Splits {@code line} into {@link #fields}; false where Python's reader would raise, or
   * where a character would make it read differently from one line on its own. */
  private boolean split(String line) {
    fields.clear();
    int n = line.length();
    int i = 0;
    while (true) {
      field.setLength(0);
      if (quoted && i < n && line.charAt(i) == '"') {
        i++;
        while (true) {
          if (i >= n) {
            return false; // the quoted field runs on past the line
          }
          char c = line.charAt(i++);
          if (c == '\r' || c == '\0') {
            return false;
          }
          if (c != '"') {
            field.append(c);
          } else if (i < n && line.charAt(i) == '"') {
            field.append('"');
            i++;
          } else {
            break;
          }
        }
        fields.add(field.toString());
        if (i == n) {
          return true;
        }
        if (line.charAt(i) != delimiter) {
          return false; // strict: "',' expected after '\"'"
        }
        i++;
        continue;
      }
      while (i < n) {
        char c = line.charAt(i);
        if (c == delimiter) {
          break;
        }
        if (c == '\r' || c == '\0') {
          return false;
        }
        field.append(c);
        i++;
      }
      fields.add(field.toString());
      if (i == n) {
        return true;
      }
      i++; // the delimiter: another field follows, empty at the line's end
    }
  }

  private Map<String, String> positionalMetaKeys(int count) {
    return positionalMetaKeys.computeIfAbsent(count, c -> {
      Map<String, String> keys = new HashMap<>();
      for (int i = 0; i < c; i++) {
        keys.put(Integer.toString(i), "col" + i);
      }
      return keys;
    });
  }
}
