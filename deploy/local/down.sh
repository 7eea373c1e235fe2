#!/usr/bin/env bash
# Stops the services (gracefully: in-flight requests and batches drain), then the dashboard and the servers.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
data=${PETITION_DATA:-$repo/.data}

"$repo/deploy/local/prometheus.sh" stop
for name in intake counter worker mailer; do
  pidfile=$data/run/$name.pid
  [ -s "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 70); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && { echo "[down] $name did not stop in 35 s; killing it"; kill -KILL "$pid"; }
    echo "[down] stopped $name"
  fi
  rm -f "$pidfile"
done
"$repo/deploy/local/dashboard.sh" stop
"$repo/deploy/local/servers.sh" stop
