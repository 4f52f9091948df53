#!/usr/bin/env bash
# Resolve the Delta Lake jars from Maven Central into $1 (default .jars/), once.
# Spark already ships scala-library and antlr4-runtime, so those are excluded to keep one
# copy of each class on the classpath. A second run finds the stamp and needs no network;
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
  -DincludeScope=runtime -DexcludeGroupIds=org.scala-lang,org.antlr \
  -DoutputDirectory="$out"
ls "$out"/delta-spark_*.jar "$out"/delta-storage-*.jar >/dev/null
ls "$out"/*.jar | xargs -n1 basename > "$out/.resolved"
echo "fetch_jars: $(wc -l < "$out/.resolved") jars in $out"
