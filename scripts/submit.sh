#!/usr/bin/env bash
# spark-submit a Refinery job with the Delta jars and the package bundle:
#   scripts/submit.sh [spark-submit options] jobs/ingest.py --conf conf/local.yaml [--set k=v]
# Uses the virtualenv's spark-submit unless SPARK_SUBMIT names another one.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
submit="${SPARK_SUBMIT:-$root/.venv/bin/spark-submit}"
jars="$(ls "$root"/.jars/*.jar 2>/dev/null | paste -sd, -)"
[ -n "$jars" ] || { echo "submit.sh: no Delta jars in $root/.jars; run: make jars" >&2; exit 2; }
# Rebuilt every time (a few milliseconds) so the bundle never lags behind the checkout.
"$root/.venv/bin/python" "$root/scripts/build_bundle.py" "$root/dist/refinery.zip" >/dev/null
export PYSPARK_PYTHON="${PYSPARK_PYTHON:-$root/.venv/bin/python}"
exec "$submit" --jars "$jars" --py-files "$root/dist/refinery.zip" "$@"
