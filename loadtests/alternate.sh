#!/usr/bin/env bash
# Compares CPU per stored signature between builds of two (or more) trees on the same machine: each round
# starts each tree fresh (deploy/local/up.sh, rate limits off, no dashboard), warms it up at 3,000/s for 30 s,
# measures 40 s at 3,000/s, and stops it. Alternating cancels the drift that makes whole bench runs an hour
# apart differ by more than 10 %. Run on a quiet machine: nothing else may build or test meanwhile.
#   loadtests/alternate.sh <rounds> <tree> <tree> [...]   (each tree a clone with the load tests built)
set -u
rounds=${1:?rounds}; shift
out=${PETITION_ALTERNATE_OUT:-/tmp/alternate}
for i in $(seq 1 "$rounds"); do
  for tree in "$@"; do
    cd "$tree" || exit 1
    name=$(basename "$tree")
    (export RateLimits__Enabled=false Counter__MaxStreamsPerClient=100000 PETITION_DASHBOARD=off; deploy/local/up.sh >/dev/null 2>&1) || { echo "up failed in $tree"; exit 1; }
    eval "$(deploy/local/servers.sh env)"
    dll=loadtests/Petition.LoadTests/bin/Release/net10.0/Petition.LoadTests.dll
    dotnet "$dll" steady --rate 3000 --duration 30 --quiet --out "$out/warm" >/dev/null 2>&1
    dotnet "$dll" steady --rate 3000 --duration 40 --quiet --out "$out/$i-$name" >/dev/null 2>&1
    echo "$i $name: $(grep -h 'CPU per stored signature' "$out/$i-$name"/*.md | head -1)"
    deploy/local/down.sh >/dev/null 2>&1
  done
done
