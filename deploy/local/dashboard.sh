#!/usr/bin/env bash
# Starts the standalone Aspire Dashboard, a viewer for the services' traces, metrics and logs (OTLP), bound
# to 127.0.0.1. Restored from its NuGet package by deploy/local/dashboard/Petition.Dashboard.csproj; its
# telemetry is held in memory only.
#   deploy/local/dashboard.sh start|stop|env|url
# PETITION_DASHBOARD_PORT picks the UI port (18888); OTLP/gRPC listens on the next port, OTLP/HTTP on the one after.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
data=${PETITION_DATA:-$repo/.data}
dir=$data/dashboard
ui_port=${PETITION_DASHBOARD_PORT:-18888}
grpc_port=$((ui_port + 1))
http_port=$((ui_port + 2))
project=$repo/deploy/local/dashboard/Petition.Dashboard.csproj
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# The pid file's process, if it is still the dashboard (not a process that reused the pid since).
running() { [ -s "$dir/pid" ] && grep -qa Aspire.Dashboard "/proc/$(cat "$dir/pid")/cmdline" 2>/dev/null; }
answers() { curl -fs --max-time 2 -o /dev/null "http://127.0.0.1:$ui_port/"; }
stop() {
  if running; then
    local pid; pid=$(cat "$dir/pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$dir/pid"
}

case "${1:-start}" in
  start)
    if running; then echo "[dashboard] already up on http://127.0.0.1:$ui_port"; exit 0; fi
    if answers; then echo "[dashboard] 127.0.0.1:$ui_port is answering already, but not as this dashboard" >&2; exit 1; fi
    mkdir -p "$dir"
    dotnet restore "$project" -nologo -v q >"$dir/restore.log" 2>&1 || { cat "$dir/restore.log" >&2; exit 1; }
    executable=$(dotnet msbuild "$project" -nologo -getProperty:AspireDashboardPath)
    [ -x "$executable" ] || { echo "[dashboard] no executable at '$executable'" >&2; exit 1; }
    # Loopback only, so no login: the UI, the OTLP receivers and the telemetry API are anonymous. Only requests
    # addressed to this machine's own names are served, so a web page cannot reach it through DNS rebinding.
    (cd "$(dirname "$executable")" && \
      ASPNETCORE_URLS=http://127.0.0.1:$ui_port AllowedHosts="localhost;127.0.0.1" \
      ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL=http://127.0.0.1:$grpc_port \
      ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL=http://127.0.0.1:$http_port \
      ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS=true \
      ASPIRE_DASHBOARD_API_ENABLED=true \
      Dashboard__Api__AuthMode=Unsecured \
      exec nohup "$executable" >"$dir/dashboard.log" 2>&1 </dev/null) &
    echo $! >"$dir/pid"
    # Alive, not running(): until the subshell has exec'd, its command line does not name the dashboard yet.
    for _ in $(seq 1 300); do answers && break; kill -0 "$(cat "$dir/pid")" 2>/dev/null || break; sleep 0.1; done
    answers || { echo "[dashboard] did not come up; see $dir/dashboard.log" >&2; tail -n 20 "$dir/dashboard.log" >&2; stop; exit 1; }
    echo "[dashboard] up on http://127.0.0.1:$ui_port (OTLP gRPC 127.0.0.1:$grpc_port, HTTP 127.0.0.1:$http_port)"
    ;;
  stop) stop ;;
  # What a service needs to export to it.
  env) echo "export OTEL_EXPORTER_OTLP_ENDPOINT='http://127.0.0.1:$grpc_port'" ;;
  url) echo "http://127.0.0.1:$ui_port" ;;
  *) echo "usage: $0 start|stop|env|url" >&2; exit 2 ;;
esac
