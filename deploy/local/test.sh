#!/usr/bin/env bash
# Runs every test. Starts its own fresh PostgreSQL, Redis and RabbitMQ (installing them from Debian if
# missing) under .data/test on ports of their own, so it never touches the local run's data, and stops
# them afterwards (and the dashboard the dashboard test starts, on its own port too).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"

export PETITION_DATA=$repo/.data/test PETITION_PG_PORT=5434 PETITION_REDIS_PORT=6381 PETITION_AMQP_PORT=5674 PETITION_DASHBOARD_PORT=18898
servers=$repo/deploy/local/servers.sh

command -v dotnet >/dev/null || { echo "The .NET 10 SDK is required (dotnet on PATH)." >&2; exit 1; }
# The widget's browser test drives Debian's Chromium.
if [ ! -x /usr/bin/chromium ]; then
  echo "[test] installing chromium from Debian"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

cluster=$repo/deploy/local/cluster.sh
# The dashboard test starts the dashboard (deploy/local/dashboard.sh) itself.
stop_all() {
  "$cluster" stop >/dev/null 2>&1 || true; "$repo/deploy/local/dashboard.sh" stop >/dev/null 2>&1 || true
  "$servers" stop >/dev/null 2>&1 || true
}
stop_all
rm -rf "$PETITION_DATA" artifacts/faults
trap stop_all EXIT
"$servers" start
eval "$("$servers" env)"
export PETITION_PG_BIN=/usr/lib/postgresql/15/bin

dotnet build Petition.sln -c Release -v q -nologo

# One project at a time: the outage tests stop and start shared servers, and two cores are enough
# contention already.
status=0
log=$(mktemp)
for project in tests/*/*.Tests.csproj; do
  echo "== $project"
  dotnet test "$project" -c Release --no-build -nologo --logger "console;verbosity=normal" 2>&1 | tee -a "$log" || status=1
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
done

# One closing line for every runner that reads it: "N passed, N failed".
count() { { grep -E "^\\s+$1: [0-9]+" "$log" || true; } | awk '{s += $2} END {print s + 0}'; }
passed=$(count Passed)
failed=$(count Failed)
# CI keeps only the tail of the output, so the failing tests are named again at the very end.
# Each with the first lines of its error message.
failures=$(awk '/^ +Failed [A-Za-z]/ {n = 8} /^ +Stack Trace:/ {n = 0} n > 0 {print; n--}' "$log")
rm -f "$log"
# The fault suite's table (the one in docs/faults.md is copied from a run of it).
if [ -s artifacts/faults/faults.md ]; then
  echo "== faults"
  cat artifacts/faults/faults.md
fi
[ "$passed" -gt 0 ] || status=1
if [ -n "$failures" ]; then
  echo "== failed"
  echo "$failures"
fi
echo "$passed passed, $failed failed"
exit $status
