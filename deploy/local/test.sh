#!/usr/bin/env bash
# Runs every test, as CI does, on fresh test servers, and stops them afterwards (and the dashboard and the
# RabbitMQ cluster that tests start). The tests start the servers themselves (tests/Petition.Testing's
# TestServers, through servers.sh: PostgreSQL, Redis, RabbitMQ and Postfix under .data/test on ports of their own, so
# never the local run's data), as under a plain `dotnet test`. What is left here is what only a whole run
# needs: a fresh start, one project at a time, the count from the result files, and one closing line.
# PETITION_DATA, PETITION_PG_PORT, _REDIS_PORT, _AMQP_PORT, _DASHBOARD_PORT and _SMTP_PORT override the test defaults.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"

export PETITION_DATA=${PETITION_DATA:-$repo/.data/test} PETITION_PG_PORT=${PETITION_PG_PORT:-5434} \
  PETITION_REDIS_PORT=${PETITION_REDIS_PORT:-6381} PETITION_AMQP_PORT=${PETITION_AMQP_PORT:-5674} \
  PETITION_DASHBOARD_PORT=${PETITION_DASHBOARD_PORT:-18898} PETITION_SMTP_PORT=${PETITION_SMTP_PORT:-2526}
# Servers named in the environment (the local run's, say) would be used instead of the fresh ones.
unset ConnectionStrings__Postgres ConnectionStrings__Redis ConnectionStrings__RabbitMq \
  Petition__AdminApiKey Petition__DedupSecret Petition__ContactEmailKey
results=$repo/artifacts/test-results

command -v dotnet >/dev/null || { echo "The .NET 10 SDK is required (dotnet on PATH)." >&2; exit 1; }

stop_all() {
  "$repo/deploy/local/cluster.sh" stop >/dev/null 2>&1 || true; "$repo/deploy/local/dashboard.sh" stop >/dev/null 2>&1 || true
  "$repo/deploy/local/servers.sh" stop >/dev/null 2>&1 || true
}
stop_all
rm -rf "$PETITION_DATA" artifacts/faults artifacts/hostile "$results"
trap stop_all EXIT

dotnet build Petition.sln -c Release -v q -nologo

# One project at a time, not `dotnet test Petition.sln`: the fault suite measures recovery on two cores, and
# the projects beside it would slow it (the tests' server leases keep a parallel run correct, not quick).
status=0
for project in tests/*/*.Tests.csproj; do
  echo "== $project"
  dotnet test "$project" -c Release --no-build -nologo --logger "console;verbosity=normal" \
    --logger "trx;LogFileName=$(basename "$project" .csproj).trx" --results-directory "$results" || status=1
done

# Counted from the result files (TRX), not from what the runners printed.
shopt -s nullglob
trx=("$results"/*.trx)
count() { # count <attribute of Counters>: summed over the projects
  [ ${#trx[@]} -gt 0 ] || { echo 0; return; }
  awk -v name="$1" '
    match($0, /<Counters [^>]*/) {
      counters = substr($0, RSTART, RLENGTH)
      if (match(counters, " " name "=\"[0-9]+\"")) { n = substr(counters, RSTART, RLENGTH); gsub(/[^0-9]/, "", n); sum += n }
    }
    END { print sum + 0 }' "${trx[@]}"
}
passed=$(count passed)
failed=$(count failed)
# CI keeps only the tail of the output, so the failing tests are named again at the very end, each with the
# first lines of its error message.
failures=$([ ${#trx[@]} -eq 0 ] || awk '
  function text(s) { gsub(/&lt;/, "<", s); gsub(/&gt;/, ">", s); gsub(/&quot;/, "\"", s); gsub(/&apos;/, "'\''", s); gsub(/&#xD;/, "", s); gsub(/&amp;/, "\\&", s); return s }
  /<UnitTestResult / {
    failing = $0 ~ / outcome="Failed"/
    if (failing) { name = $0; sub(/.* testName="/, "", name); sub(/".*/, "", name); print "  Failed " text(name); lines = 0 }
  }
  failing && /<Message>/ { message = 1; sub(/.*<Message>/, "") }
  failing && message {
    last = sub(/<\/Message>.*/, "")
    if (lines++ < 7) print "    " text($0)
    if (last) { message = 0; failing = 0 }
  }' "${trx[@]}")
# The fault suite's table (the one in docs/faults.md is copied from a run of it).
if [ -s artifacts/faults/faults.md ]; then
  echo "== faults"
  cat artifacts/faults/faults.md
fi
# The hostile suite's table (docs/security.md holds one from a run).
if [ -s artifacts/hostile/hostile.md ]; then
  echo "== hostile traffic"
  cat artifacts/hostile/hostile.md
fi
[ "$passed" -gt 0 ] || status=1
if [ -n "$failures" ]; then
  echo "== failed"
  echo "$failures"
fi
echo "$passed passed, $failed failed"
exit $status
