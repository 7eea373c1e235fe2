#!/usr/bin/env bash
# Starts the whole system on this machine: installs and starts PostgreSQL, Redis, RabbitMQ and Postfix from Debian
# (bound to 127.0.0.1, data under .data/), the Aspire Dashboard (traces, metrics and logs), builds the
# services in Release and starts them in the background, exporting their telemetry to the dashboard.
# Running it again does no harm: what is already up is left running.
# PETITION_DASHBOARD=off starts no dashboard (the services then export only to an OTEL_EXPORTER_OTLP_ENDPOINT of yours).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
data=${PETITION_DATA:-$repo/.data}
intake_url=${PETITION_INTAKE_URL:-http://127.0.0.1:5080}
worker_url=${PETITION_WORKER_URL:-http://127.0.0.1:5081}
counter_url=${PETITION_COUNTER_URL:-http://127.0.0.1:5082}
mailer_url=${PETITION_MAILER_URL:-http://127.0.0.1:5083}
# /health/* and /metrics answer only here (loopback); the worker and the mailer have no public API, their one listener is private.
intake_management_url=${PETITION_INTAKE_MANAGEMENT_URL:-http://127.0.0.1:5180}
counter_management_url=${PETITION_COUNTER_MANAGEMENT_URL:-http://127.0.0.1:5182}

command -v dotnet >/dev/null || { echo "The .NET 10 SDK is required (dotnet on PATH); Debian does not package it." >&2; exit 1; }

deploy/local/servers.sh start
eval "$(deploy/local/servers.sh env)"
mkdir -p "$data/logs" "$data/run"
if [ "${PETITION_DASHBOARD:-on}" != off ]; then
  if deploy/local/dashboard.sh start; then
    # The services export there unless told otherwise.
    [ -n "${OTEL_EXPORTER_OTLP_ENDPOINT:-}" ] || eval "$(deploy/local/dashboard.sh env)"
  else
    echo "[up] the dashboard did not start; the services run without it" >&2
    PETITION_DASHBOARD=off
  fi
fi

running() { [ -s "$data/run/$1.pid" ] && kill -0 "$(cat "$data/run/$1.pid")" 2>/dev/null; }

if ! running intake || ! running worker || ! running counter || ! running mailer; then
  echo "[up] building services (Release)"
  dotnet build Petition.sln -c Release -v q -nologo >"$data/logs/build.log" 2>&1 || { cat "$data/logs/build.log"; exit 1; }
fi

start_service() { # start_service <name> <project> <url> [management url]
  local name=$1 project=$2 url=$3 management=${4:-}
  if running "$name"; then echo "[up] $name already running (pid $(cat "$data/run/$name.pid"))"; return; fi
  # From its output folder: that is the content root, where its appsettings.json is.
  # exec: the pid recorded is the service's own, so down.sh's SIGTERM reaches it.
  (cd "services/$project/bin/Release/net10.0" && ASPNETCORE_URLS=$url Management__Url=$management exec nohup dotnet "$project.dll" >>"$data/logs/$name.log" 2>&1 </dev/null) &
  echo $! >"$data/run/$name.pid"
  echo "[up] started $name (pid $(cat "$data/run/$name.pid")), log: $data/logs/$name.log"
}
start_service worker Petition.Worker "$worker_url"
# Its links open the intake's pages (/confirm, /withdraw): at the intake's public address.
Mail__LinkBase=${Mail__LinkBase:-$intake_url} start_service mailer Petition.Mailer "$mailer_url"
start_service intake Petition.Intake "$intake_url" "$intake_management_url"
start_service counter Petition.Counter "$counter_url" "$counter_management_url"

for name_url in "intake $intake_management_url" "worker $worker_url" "mailer $mailer_url" "counter $counter_management_url"; do
  set -- $name_url
  for _ in $(seq 1 120); do
    curl -fs "$2/health/ready" >/dev/null 2>&1 && break
    running "$1" || { echo "[up] $1 exited; see $data/logs/$1.log" >&2; tail -n 20 "$data/logs/$1.log" >&2; exit 1; }
    sleep 0.5
  done
  curl -fs "$2/health/ready" >/dev/null || { echo "[up] $1 is not ready: $(curl -s "$2/health/ready")" >&2; exit 1; }
done

deploy/local/prometheus.sh start

cat <<DONE

Petition is up.
  Intake API   $intake_url        (POST /api/petitions/{id}/signatures, GET /api/petitions)
  Worker       $worker_url/health/ready   (loopback; no public API)
  Mailer       $mailer_url/health/ready   (loopback; sends signers' mails through Postfix on 127.0.0.1:${PETITION_SMTP_PORT:-2525}; they land in $data/postfix/mail/inbox/new/)
  Counter      $counter_url       (GET /api/petitions/{id}/count, /count/stream; widget: $counter_url/widget.js; demo: $counter_url/demo.html)
  Management   $intake_management_url/health/ready, $counter_management_url/metrics, …   (loopback only; the public ports answer 404)
  Prometheus   $(deploy/local/prometheus.sh url)   (scrapes every /metrics and RabbitMQ's queue metrics)
  Dashboard    $( [ "${PETITION_DASHBOARD:-on}" != off ] && echo "$(deploy/local/dashboard.sh url)   (traces, metrics and logs; services export to ${OTEL_EXPORTER_OTLP_ENDPOINT:-nowhere})" || echo "off")
  Admin key    PETITION_ADMIN_KEY in $data/secrets.env (send it as the X-Api-Key header)
  Servers      PostgreSQL 127.0.0.1:${PETITION_PG_PORT:-5433}, Redis 127.0.0.1:${PETITION_REDIS_PORT:-6380}, RabbitMQ 127.0.0.1:${PETITION_AMQP_PORT:-5673}, Postfix 127.0.0.1:${PETITION_SMTP_PORT:-2525}
  Logs         $data/logs/
Stop everything with deploy/local/down.sh
DONE
