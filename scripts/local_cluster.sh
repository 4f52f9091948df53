#!/usr/bin/env bash
# A real Spark standalone cluster on 127.0.0.1, from the virtualenv's pyspark installation:
# one master and WORKERS workers (default 1), for tests and for trying cluster submits locally.
#
#   scripts/local_cluster.sh start    # master spark://127.0.0.1:$MASTER_PORT, then the workers
#   scripts/local_cluster.sh status   # prints the master URL and each worker's state; exit 1 if down
#   scripts/local_cluster.sh stop     # stops the workers, then the master (safe to repeat)
#
# Settings (environment): MASTER_PORT (7077), MASTER_UI_PORT (8080), WORKER_UI_PORT (8081, then
# +1 per worker), WORKERS (1), WORKER_CORES (2), WORKER_MEMORY (4g), CLUSTER_DIR (.cluster under
# the project: pid files, daemon logs, executors' work folders), SPARK_HOME (the venv's pyspark).
# `start` returns once every worker has registered with the master, or fails after 90 s and
# prints the daemon logs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
export SPARK_HOME="${SPARK_HOME:-$("$python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')}"
cluster_dir="${CLUSTER_DIR:-$root/.cluster}"
master_port="${MASTER_PORT:-7077}"
master_ui_port="${MASTER_UI_PORT:-8080}"
worker_ui_port="${WORKER_UI_PORT:-8081}"
workers="${WORKERS:-1}"
master_url="spark://127.0.0.1:$master_port"

# spark-daemon.sh reads these: where pid files and logs go, and which host the daemons bind.
export SPARK_PID_DIR="$cluster_dir/pids" SPARK_LOG_DIR="$cluster_dir/logs"
export SPARK_IDENT_STRING="refinery-$master_port" SPARK_LOCAL_IP=127.0.0.1 SPARK_MASTER_HOST=127.0.0.1
export SPARK_NO_DAEMONIZE_TIMEOUT=1
daemon="$SPARK_HOME/sbin/spark-daemon.sh"
MASTER=org.apache.spark.deploy.master.Master
WORKER=org.apache.spark.deploy.worker.Worker

registered_workers() {
  # The master's log names each worker it registers; its REST-free way to count them.
  grep -h "Registering worker 127.0.0.1" "$SPARK_LOG_DIR"/*Master*.out 2>/dev/null | wc -l
}

start() {
  mkdir -p "$SPARK_PID_DIR" "$SPARK_LOG_DIR" "$cluster_dir/work"
  "$daemon" start "$MASTER" 1 --host 127.0.0.1 --port "$master_port" --webui-port "$master_ui_port"
  for i in $(seq 1 "$workers"); do
    "$daemon" start "$WORKER" "$i" --host 127.0.0.1 --webui-port "$((worker_ui_port + i - 1))" \
      --cores "${WORKER_CORES:-2}" --memory "${WORKER_MEMORY:-4g}" --work-dir "$cluster_dir/work" "$master_url"
  done
  for _ in $(seq 1 90); do
    if [ "$(registered_workers)" -ge "$workers" ]; then
      echo "$master_url: master and $workers worker(s) up (logs: $SPARK_LOG_DIR)"
      return 0
    fi
    sleep 1
  done
  echo "local_cluster.sh: $workers worker(s) did not register with $master_url within 90 s" >&2
  tail -n 40 "$SPARK_LOG_DIR"/*.out >&2 || true
  return 1
}

stop() {
  for i in $(seq 1 "$workers"); do
    "$daemon" stop "$WORKER" "$i" || true
  done
  "$daemon" stop "$MASTER" 1 || true
}

status() {
  local down=0
  "$daemon" status "$MASTER" 1 || down=1
  for i in $(seq 1 "$workers"); do
    "$daemon" status "$WORKER" "$i" || down=1
  done
  [ "$down" -eq 0 ] && echo "$master_url"
  return "$down"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
