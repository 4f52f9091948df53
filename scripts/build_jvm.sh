#!/usr/bin/env bash
# Compile ingest's JVM reader (jvm/src) into $2 (default .jars/refinery-jvm.jar) against the
# Spark jars of the virtualenv's pyspark ($1: its python). Java 17's javac; no network.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${1:-$here/../.venv/bin/python}"
jar="${2:-$here/../.jars/refinery-jvm.jar}"
spark_jars="$("$python" -c 'import os, pyspark; print(os.path.join(os.path.dirname(pyspark.__file__), "jars"))')"
classes="$(mktemp -d)"
trap 'rm -rf "$classes"' EXIT
javac --release 17 -nowarn -d "$classes" -cp "$spark_jars/*" "$here"/../jvm/src/refinery/jvm/*.java
mkdir -p "$(dirname "$jar")"
jar --create --file "$jar.tmp" -C "$classes" .
mv "$jar.tmp" "$jar"
echo "build_jvm: $jar"
