package refinery.jvm;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.util.ArrayBasedMapData;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReader;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.unsafe.types.UTF8String;
import org.apache.spark.util.SerializableConfiguration;

/**
 * Reads the ranges of one task line by line, in bounded memory: one chunk of
 * {@link #CHUNK_BYTES} and one line of at most {@code max_line_bytes} (a longer one keeps its
 * first {@link #OVERLONG_HEAD_BYTES} and its length), whatever the file's size.
 *
 * <p>The line rule is {@code refinery.text.line_split.byte_lines}'s (Hadoop's
 * {@code LineRecordReader} rule): a line belongs to the range that holds its first byte; a
 * range that does not start its file skips the line it starts inside of; a final empty line
 * is no line; one trailing carriage return is dropped from a line read whole. Line numbers are
 * the file's, from the range's {@code newlines_before}.
 */
final class RangeReader implements PartitionReader<InternalRow> {
  static final int CHUNK_BYTES = 1 << 20;
  /** {@code refinery.text.line_split.OVERLONG_HEAD_BYTES}. */
  static final int OVERLONG_HEAD_BYTES = 64 << 10;

  /** Makes a reader per task; serialized to the executors. */
  static final class Factory implements PartitionReaderFactory {
    private static final long serialVersionUID = 1L;
    private final SourceRules rules;
    private final SerializableConfiguration conf;

    Factory(SourceRules rules, SerializableConfiguration conf) {
      this.rules = rules;
      this.conf = conf;
    }

    @Override
    public PartitionReader<InternalRow> createReader(InputPartition partition) {
      return new RangeReader(((LinesSource.Task) partition).ranges().iterator(), rules, conf);
    }
  }

  private final Iterator<LinesSource.Range> ranges;
  private final SourceRules rules;
  private final SerializableConfiguration conf;
  private final LineRecords parser;
  private final UTF8String source;
  private final UTF8String ok = UTF8String.fromString("ok");
  private final UTF8String encoding;

  private LinesSource.Range range;
  private UTF8String path;
  private InputStream in;
  private final byte[] chunk = new byte[CHUNK_BYTES + 4];
  private boolean firstChunk;
  private int chunkPos;
  private int chunkLimit;
  /** Absolute file position of the next unread byte. */
  private long position;
  private long end;
  private long lineNo;

  private byte[] line = new byte[1 << 16];
  private int lineBytes;
  /** The line's full length in bytes (over the limit only the head is kept). */
  private long lineLength;

  private InternalRow current;

  RangeReader(Iterator<LinesSource.Range> ranges, SourceRules rules, SerializableConfiguration conf) {
    this.ranges = ranges;
    this.rules = rules;
    this.conf = conf;
    this.parser = rules.format.equals("jsonl") ? new JsonlRecord(rules) : new CsvRecord(rules);
    this.source = UTF8String.fromString(rules.source);
    this.encoding = UTF8String.fromString(rules.encoding);
  }

  @Override
  public boolean next() throws IOException {
    while (true) {
      if (in == null) {
        if (!ranges.hasNext()) {
          return false;
        }
        open(ranges.next());
        continue;
      }
      if (position >= end || !scanLine(true)) {
        closeRange();
        continue;
      }
      boolean skipped = parser.skipped(range, lineNo);
      current = skipped ? null : row();
      lineNo++;
      if (!skipped) {
        return true;
      }
    }
  }

  @Override
  public InternalRow get() {
    return current;
  }

  @Override
  public void close() throws IOException {
    closeRange();
  }

  private void open(LinesSource.Range next) throws IOException {
    range = next;
    path = UTF8String.fromString(next.name());
    Path file = new Path(next.path());
    FileSystem fs = file.getFileSystem(conf.value());
    FSDataInputStream stream = fs.open(file);
    in = stream;
    chunkPos = chunkLimit = 0;
    firstChunk = next.start() == 0;
    end = next.whole() ? Long.MAX_VALUE : next.end();
    if (next.start() == 0) {
      position = 0;
      lineNo = next.newlinesBefore() + 1;
      return;
    }
    // the byte before the range is counted in newlines_before: a range that starts right
    // after a newline owns its first line, any other skips the line it starts inside of
    stream.seek(next.start() - 1);
    position = next.start() - 1;
    lineNo = next.newlinesBefore();
    int first = readByte();
    if (first < 0) {
      position = end;
      return;
    }
    if (first != '\n') {
      lineNo++;
      if (!scanLine(false)) {
        position = end;
        return;
      }
    }
    lineNo++;
  }

  private void closeRange() throws IOException {
    if (in != null) {
      in.close();
      in = null;
    }
  }

  /** Reads the next chunk, as Python's reader cuts them: the range that starts a file reads
   * its first {@link #CHUNK_BYTES} + 4 bytes (the encoding sniff's head) in one, every other
   * chunk is {@link #CHUNK_BYTES}, read to the full size unless the file ends. The cut points
   * matter only to which head of an over-long line is kept. */
  private boolean fill() throws IOException {
    int want = firstChunk ? CHUNK_BYTES + 4 : CHUNK_BYTES;
    firstChunk = false;
    int n = 0;
    while (n < want) {
      int read = in.read(chunk, n, want - n);
      if (read < 0) {
        break;
      }
      n += read;
    }
    chunkPos = 0;
    chunkLimit = n;
    return n > 0;
  }

  private int readByte() throws IOException {
    if (chunkPos == chunkLimit && !fill()) {
      return -1;
    }
    position++;
    return chunk[chunkPos++] & 0xff;
  }

  /** Reads the rest of the current line and its newline, into {@link #line} when {@code keep}
   * (else passes over it); false when the file ends before any byte. */
  private boolean scanLine(boolean keep) throws IOException {
    lineBytes = 0;
    lineLength = 0;
    long scanned = 0;
    while (true) {
      if (chunkPos == chunkLimit && !fill()) {
        return scanned > 0;
      }
      int found = indexOfNewline(chunkPos, chunkLimit);
      int stop = found >= 0 ? found : chunkLimit;
      if (keep) {
        append(chunkPos, stop);
      }
      scanned += stop - chunkPos;
      if (found >= 0) {
        position += found + 1 - chunkPos;
        chunkPos = found + 1;
        return true;
      }
      position += stop - chunkPos;
      chunkPos = stop;
    }
  }

  private int indexOfNewline(int from, int to) {
    for (int i = from; i < to; i++) {
      if (chunk[i] == '\n') {
        return i;
      }
    }
    return -1;
  }

  /** Adds {@code chunk[from, to)}, one piece of the line, as {@code line_split._Pending.add}
   * does: whole while the line is within {@code max_line_bytes}; the piece that crosses the
   * limit cuts what is kept to the line's first {@link #OVERLONG_HEAD_BYTES}; later pieces are
   * only counted. */
  private void append(int from, int to) {
    int n = to - from;
    long limit = rules.maxLineBytes;
    if (lineLength + n <= limit) {
      ensureRoom(lineBytes + n);
      System.arraycopy(chunk, from, line, lineBytes, n);
      lineBytes += n;
    } else if (lineLength <= limit) {
      int take = Math.max(0, Math.min(n, OVERLONG_HEAD_BYTES - lineBytes));
      ensureRoom(lineBytes + take);
      System.arraycopy(chunk, from, line, lineBytes, take);
      lineBytes = Math.min(lineBytes + take, OVERLONG_HEAD_BYTES);
    }
    lineLength += n;
  }

  private void ensureRoom(int bytes) {
    if (bytes > line.length) {
      line = Arrays.copyOf(line, (int) Math.min(Math.max(bytes, 2L * line.length), Integer.MAX_VALUE - 8));
    }
  }

  private InternalRow row() {
    Object[] v = new Object[LinesSource.SCHEMA.size()];
    v[0] = source;
    v[1] = path;
    v[2] = lineNo;
    v[14] = range.mtimeMicros();
    boolean overlong = lineLength > rules.maxLineBytes;
    int length = lineBytes;
    if (!overlong && length > 0 && line[length - 1] == '\r') {
      length--;
    }
    GoodRecord.Fields fields = overlong ? null : parser.parse(line, 0, length, range, lineNo);
    if (fields == null) {
      v[15] = Arrays.copyOf(line, length);
      v[16] = overlong ? lineLength : null;
      return new GenericInternalRow(v);
    }
    v[3] = ok;
    v[7] = fields.textUtf8 != null ? UTF8String.fromBytes(fields.textUtf8) : UTF8String.fromString(fields.text);
    v[8] = fields.label == null ? null : UTF8String.fromString(fields.label);
    v[9] = fields.rawId == null ? null : UTF8String.fromString(fields.rawId);
    v[10] = fields.rawEventTs == null ? null : UTF8String.fromString(fields.rawEventTs);
    Object[] keys = new Object[fields.meta.size()];
    Object[] values = new Object[fields.meta.size()];
    int i = 0;
    for (Map.Entry<String, String> entry : fields.meta.entrySet()) {
      keys[i] = UTF8String.fromString(entry.getKey());
      values[i++] = UTF8String.fromString(entry.getValue());
    }
    v[11] = new ArrayBasedMapData(new GenericArrayData(keys), new GenericArrayData(values));
    v[12] = encoding;
    v[13] = UTF8String.fromString(fields.contentHash);
    return new GenericInternalRow(v);
  }
}
