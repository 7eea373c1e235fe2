#!/usr/bin/env bash
# The benchmark: builds in Release, starts the system (deploy/local/up.sh, installing what is missing) and
# the HTTP ceiling server, runs the fixed set of scenarios and prints one table with ratios to the
# ceilings measured in the same run. Reports go to artifacts/bench/. Takes about twelve minutes.
#   loadtests/bench.sh [extra options for Petition.LoadTests bench, e.g. --quiet]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
data=${PETITION_DATA:-$repo/.data}
ceiling_url=${PETITION_CEILING_URL:-http://127.0.0.1:5090}

if [ -s "$data/run/intake.pid" ] && kill -0 "$(cat "$data/run/intake.pid")" 2>/dev/null; then
  echo "[bench] the services are already running: measuring them as they are (deploy/local/down.sh first for a fresh build;"
  echo "[bench] an intake started without RateLimits__Enabled=false will answer most of the load 429, a counter without"
  echo "[bench] Counter__MaxStreamsPerClient=100000 most of its streams)"
fi
# The load generator signs, and watches live counts, as thousands of people from one address: the per-address
# limits would stop it.
export RateLimits__Enabled=false Counter__MaxStreamsPerClient=100000
# The pipeline, without a viewer competing for the same two cores (PETITION_DASHBOARD=on to measure it too;
# docs/benchmarks.md gives what exporting costs).
export PETITION_DASHBOARD=${PETITION_DASHBOARD:-off}
deploy/local/up.sh
eval "$(deploy/local/servers.sh env)"
dotnet build loadtests/Petition.LoadTests -c Release -v q -nologo >/dev/null
dotnet build loadtests/Petition.Ceiling -c Release -v q -nologo >/dev/null

(cd loadtests/Petition.Ceiling/bin/Release/net10.0 && ASPNETCORE_URLS=$ceiling_url exec dotnet Petition.Ceiling.dll >/dev/null 2>&1) &
ceiling=$!
trap 'kill $ceiling 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -s -o /dev/null "$ceiling_url" && break; sleep 0.2; done

dotnet loadtests/Petition.LoadTests/bin/Release/net10.0/Petition.LoadTests.dll bench \
  --ceiling "$ceiling_url" --out "$repo/artifacts/bench" --mailbox "$data/postfix/mail/inbox" "$@"
