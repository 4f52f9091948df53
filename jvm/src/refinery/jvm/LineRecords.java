package refinery.jvm;

/**
 * One physical line of a line-per-record file → its good ingest record, or {@code null} when
 * the line goes to Python (which then decides: a refusal, a filter, or a good record of a
 * shape the JVM does not handle). One implementation per format.
 */
interface LineRecords {
  /** The record of {@code bytes[off, off+len)} (the line without its newline), line
   * {@code lineNo} of {@code range}'s file, or {@code null}. */
  GoodRecord.Fields parse(byte[] bytes, int off, int len, LinesSource.Range range, long lineNo);

  /** True when line {@code lineNo} of {@code range}'s file makes no record at all (a CSV
   * header). */
  default boolean skipped(LinesSource.Range range, long lineNo) {
    return false;
  }
}
