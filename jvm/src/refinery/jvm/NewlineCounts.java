package refinery.jvm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.connector.catalog.SupportsRead;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableCapability;
import org.apache.spark.sql.connector.catalog.TableProvider;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.connector.read.Batch;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReader;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;
import org.apache.spark.unsafe.types.UTF8String;
import org.apache.spark.util.SerializableConfiguration;

/**
 * The number of newline bytes (0x0A) in byte ranges of files, one task per range: what the
 * ingest planner needs to give each range of a split file its first line number
 * ({@code refinery.ingest.read.plan_reads}). In the JVM, so that planning a file the JVM
 * reader reads starts no Python worker; {@code refinery.sources.file_lines.count_newlines} is
 * the same count in Python.
 *
 * <p>Option {@code ranges}: {@code [{"path", "start", "end"}, ...]}, {@code end} exclusive.
 * Rows: {@code path}, {@code start}, {@code newlines}.
 */
public final class NewlineCounts implements TableProvider {
  static final StructType SCHEMA = new StructType(new StructField[] {
      new StructField("path", DataTypes.StringType, false, Metadata.empty()),
      new StructField("start", DataTypes.LongType, false, Metadata.empty()),
      new StructField("newlines", DataTypes.LongType, false, Metadata.empty()),
  });
  private static final int CHUNK_BYTES = 1 << 20;

  /** One range to count. */
  record Range(String path, long start, long end) implements InputPartition {}

  @Override
  public StructType inferSchema(CaseInsensitiveStringMap options) {
    return SCHEMA;
  }

  @Override
  public Table getTable(StructType schema, Transform[] partitioning, Map<String, String> properties) {
    return new CountsTable();
  }

  static List<Range> parseRanges(String json) {
    List<Range> ranges = new ArrayList<>();
    try {
      for (JsonNode r : new ObjectMapper().readTree(json)) {
        ranges.add(new Range(r.get("path").asText(), r.get("start").asLong(), r.get("end").asLong()));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("refinery-newline-counts: bad 'ranges' option", e);
    }
    return ranges;
  }

  /** Newline bytes in {@code buf[0, n)}. */
  static long newlines(byte[] buf, int n) {
    long count = 0;
    for (int i = 0; i < n; i++) {
      count += (buf[i] ^ '\n') == 0 ? 1 : 0;
    }
    return count;
  }

  private static final class CountsTable implements Table, SupportsRead {
    @Override
    public String name() {
      return "refinery-newline-counts";
    }

    @Override
    public StructType schema() {
      return SCHEMA;
    }

    @Override
    public Set<TableCapability> capabilities() {
      return EnumSet.of(TableCapability.BATCH_READ);
    }

    @Override
    public org.apache.spark.sql.connector.read.ScanBuilder newScanBuilder(CaseInsensitiveStringMap options) {
      String ranges = options.get("ranges");
      if (ranges == null) {
        throw new IllegalArgumentException("refinery-newline-counts needs the option 'ranges'");
      }
      return () -> new CountsScan(ranges);
    }
  }

  private static final class CountsScan implements Scan, Batch {
    private final String ranges;

    CountsScan(String ranges) {
      this.ranges = ranges;
    }

    @Override
    public StructType readSchema() {
      return SCHEMA;
    }

    @Override
    public Batch toBatch() {
      return this;
    }

    @Override
    public InputPartition[] planInputPartitions() {
      return parseRanges(ranges).toArray(new InputPartition[0]);
    }

    @Override
    public PartitionReaderFactory createReaderFactory() {
      return new Factory(new SerializableConfiguration(SparkSession.active().sessionState().newHadoopConf()));
    }
  }

  private static final class Factory implements PartitionReaderFactory {
    private static final long serialVersionUID = 1L;
    private final SerializableConfiguration conf;

    Factory(SerializableConfiguration conf) {
      this.conf = conf;
    }

    @Override
    public PartitionReader<InternalRow> createReader(InputPartition partition) {
      Range range = (Range) partition;
      return new PartitionReader<>() {
        private InternalRow row;

        @Override
        public boolean next() {
          if (row != null) {
            return false;
          }
          row = new GenericInternalRow(new Object[] {
              UTF8String.fromString(range.path()), range.start(), count(range)});
          return true;
        }

        @Override
        public InternalRow get() {
          return row;
        }

        @Override
        public void close() {}
      };
    }

    private long count(Range range) {
      Path file = new Path(range.path());
      byte[] buf = new byte[CHUNK_BYTES];
      long count = 0;
      try (FSDataInputStream in = file.getFileSystem(conf.value()).open(file)) {
        in.seek(range.start());
        long left = range.end() - range.start();
        while (left > 0) {
          int n = in.read(buf, 0, (int) Math.min(left, buf.length));
          if (n < 0) {
            break;
          }
          count += newlines(buf, n);
          left -= n;
        }
      } catch (IOException e) {
        throw new UncheckedIOException("refinery-newline-counts: cannot read " + range.path(), e);
      }
      return count;
    }
  }
}
