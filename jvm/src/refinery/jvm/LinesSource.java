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
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.connector.catalog.SupportsRead;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableCapability;
import org.apache.spark.sql.connector.catalog.TableProvider;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.connector.read.Batch;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;
import org.apache.spark.util.SerializableConfiguration;

/**
 * Ingest's fast path for UTF-8 files of one record per line (JSONL; CSV/TSV read line by
 * line): a Spark data source that reads byte ranges of line files (planned by the Python
 * driver, {@code refinery.sources.splits}) with the same line rule as
 * {@code refinery.text.line_split}, and turns each line into the ingest record
 * {@code refinery.sources.records} would make of it ({@link JsonlRecord}, {@link CsvRecord}),
 * in the JVM.
 * A line that class is not certain of comes out with its bytes in {@code _raw} (and, over
 * {@code max_line_bytes}, its length in {@code _raw_length}) for Python to parse.
 *
 * <p>Options: {@code tasks}, the read tasks as JSON
 * ({@code [[{"path","start","end","whole","newlines_before","mtime_us","path_label","name"}, ...], ...]},
 * {@code name} the path the rows carry when it is not {@code path}, the file read: a
 * compressed file's decompressed copy, {@code refinery.ingest.staging};
 * CSV/TSV ranges also {@code "header","expected_fields","first_line"}),
 * one list of ranges per task), and {@code rules} ({@link SourceRules}).
 */
public final class LinesSource implements TableProvider {
  /** The parsed-record columns of {@code refinery.ingest.read.RECORDS}, then the
   * fallback columns. */
  static final StructType SCHEMA = new StructType(new StructField[] {
      field("source", DataTypes.StringType),
      field("path", DataTypes.StringType),
      field("line", DataTypes.LongType),
      field("outcome", DataTypes.StringType),
      field("reason", DataTypes.StringType),
      field("detail", DataTypes.StringType),
      field("payload", DataTypes.StringType),
      field("text", DataTypes.StringType),
      field("label", DataTypes.StringType),
      field("raw_id", DataTypes.StringType),
      field("raw_event_ts", DataTypes.StringType),
      field("meta", DataTypes.createMapType(DataTypes.StringType, DataTypes.StringType, true)),
      field("encoding", DataTypes.StringType),
      field("content_hash", DataTypes.StringType),
      field("file_mtime", DataTypes.TimestampType),
      field("_raw", DataTypes.BinaryType),
      field("_raw_length", DataTypes.LongType),
  });

  private static StructField field(String name, org.apache.spark.sql.types.DataType type) {
    return new StructField(name, type, true, org.apache.spark.sql.types.Metadata.empty());
  }

  @Override
  public StructType inferSchema(CaseInsensitiveStringMap options) {
    return SCHEMA;
  }

  @Override
  public Table getTable(StructType schema, Transform[] partitioning, Map<String, String> properties) {
    return new LinesTable();
  }

  /** One byte range of one file, as planned by the driver, and the path its rows carry
   * ({@code name}); for CSV/TSV with the file's layout
   * ({@code header} names or {@code null}, the field count of its records and the line of its
   * first record, each -1 when the file has none). */
  record Range(String path, String name, long start, long end, boolean whole, long newlinesBefore, long mtimeMicros,
      String pathLabel, List<String> header, int expectedFields, long firstLine)
      implements java.io.Serializable {}

  /** The ranges one task reads, in order. */
  record Task(List<Range> ranges) implements InputPartition {}

  static List<Task> parseTasks(String json) {
    List<Task> tasks = new ArrayList<>();
    try {
      for (JsonNode task : new ObjectMapper().readTree(json)) {
        List<Range> ranges = new ArrayList<>();
        for (JsonNode r : task) {
          JsonNode label = r.get("path_label");
          JsonNode names = r.get("header");
          List<String> header = null;
          if (names != null && !names.isNull()) {
            header = new ArrayList<>();
            for (JsonNode name : names) {
              header.add(name.asText());
            }
          }
          String path = r.get("path").asText();
          ranges.add(new Range(path, r.path("name").asText(path), r.get("start").asLong(), r.get("end").asLong(),
              r.get("whole").asBoolean(), r.get("newlines_before").asLong(), r.get("mtime_us").asLong(),
              label == null || label.isNull() ? null : label.asText(), header,
              r.path("expected_fields").asInt(-1), r.path("first_line").asLong(-1)));
        }
        tasks.add(new Task(ranges));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("refinery-lines: bad 'tasks' option", e);
    }
    return tasks;
  }

  private static final class LinesTable implements Table, SupportsRead {
    @Override
    public String name() {
      return "refinery-lines";
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
    public ScanBuilder newScanBuilder(CaseInsensitiveStringMap options) {
      String tasks = options.get("tasks");
      String rules = options.get("rules");
      if (tasks == null || rules == null) {
        throw new IllegalArgumentException("refinery-lines needs the options 'tasks' and 'rules'");
      }
      return () -> new LinesScan(tasks, rules);
    }
  }

  private static final class LinesScan implements Scan, Batch {
    private final String tasks;
    private final String rules;

    LinesScan(String tasks, String rules) {
      this.tasks = tasks;
      this.rules = rules;
    }

    @Override
    public StructType readSchema() {
      return SCHEMA;
    }

    @Override
    public String description() {
      return "refinery-lines";
    }

    @Override
    public Batch toBatch() {
      return this;
    }

    @Override
    public InputPartition[] planInputPartitions() {
      return parseTasks(tasks).toArray(new InputPartition[0]);
    }

    @Override
    public PartitionReaderFactory createReaderFactory() {
      SerializableConfiguration conf =
          new SerializableConfiguration(SparkSession.active().sessionState().newHadoopConf());
      return new RangeReader.Factory(SourceRules.fromJson(rules), conf);
    }
  }
}
