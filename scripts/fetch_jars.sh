#!/usr/bin/env bash
# Resolve the Delta Lake jars from Maven Central into $1 (default .jars/), once.
# Only Delta's own artifacts (io.delta: delta-spark, delta-storage, the Delta kernel; and the
# Unity Catalog client the kernel links) are copied: everything else they depend on (Scala,
# Hadoop, Parquet, Jackson, log4j, ...) pyspark's jars already ship, often in a newer version,
# and a second copy of a class on the classpath is a conflict waiting to happen. A second run finds the stamp and needs no network;
# Maven's own cache (~/.m2) also makes a rebuilt .jars/ offline-capable.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../.jars}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
if ! command -v mvn >/dev/null 2>&1; then
  echo "fetch_jars: Maven (mvn) is required to resolve the Delta jars; install it (apt-get install maven)" >&2
  exit 1
fi
rm -f "$out"/*.jar "$out/.resolved"
mvn -q -B -f "$here/delta-jars/pom.xml" dependency:copy-dependencies \
  -DincludeScope=runtime -DincludeGroupIds=io.delta,io.unitycatalog \
  -DoutputDirectory="$out"
ls "$out"/delta-spark_*.jar "$out"/delta-storage-*.jar >/dev/null
ls "$out"/*.jar | xargs -n1 basename > "$out/.resolved"
echo "fetch_jars: $(wc -l < "$out/.resolved") jars in $out"
