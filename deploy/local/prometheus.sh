#!/usr/bin/env bash
# Starts Debian's Prometheus on 127.0.0.1:9090 (PETITION_PROMETHEUS_PORT), scraping the services' /metrics and
# RabbitMQ's exporter, with its data under $PETITION_DATA/prometheus.   deploy/local/prometheus.sh start|stop|url
# The targets come from the variables up.sh and servers.sh start them with (PETITION_INTAKE_MANAGEMENT_URL,
# PETITION_WORKER_URL, PETITION_COUNTER_MANAGEMENT_URL, PETITION_AMQP_PORT), so a run on other ports is scraped
# where it is.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
data=${PETITION_DATA:-$repo/.data}
dir=$data/prometheus
port=${PETITION_PROMETHEUS_PORT:-9090}
intake_url=${PETITION_INTAKE_MANAGEMENT_URL:-http://127.0.0.1:5180}
worker_url=${PETITION_WORKER_URL:-http://127.0.0.1:5081}
mailer_url=${PETITION_MAILER_URL:-http://127.0.0.1:5083}
counter_url=${PETITION_COUNTER_MANAGEMENT_URL:-http://127.0.0.1:5182}
rabbit_metrics_port=$(( ${PETITION_AMQP_PORT:-5673} + 10019 )) # as servers.sh configures rabbitmq_prometheus

target() { local authority=${1#*://}; echo "${authority%%/*}"; } # target <url>: its host:port

case "${1:-start}" in
  start)
    command -v prometheus >/dev/null || "$repo/deploy/local/servers.sh" install prometheus
    mkdir -p "$dir/tsdb"
    cat > "$dir/prometheus.yml" <<CONF
global:
  scrape_interval: 5s
scrape_configs:
  - job_name: petition
    static_configs:
      - targets: ['$(target "$intake_url")']
        labels: {service: intake}
      - targets: ['$(target "$worker_url")']
        labels: {service: worker}
      - targets: ['$(target "$mailer_url")']
        labels: {service: mailer}
      - targets: ['$(target "$counter_url")']
        labels: {service: counter}
  - job_name: rabbitmq
    static_configs:
      - targets: ['127.0.0.1:$rabbit_metrics_port']
CONF
    if [ -s "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then echo "[prometheus] already up on 127.0.0.1:$port"; exit 0; fi
    # Debian's unit runs it with these flags; no systemd here, so in the background.
    nohup prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/tsdb" \
      --web.listen-address="127.0.0.1:$port" --storage.tsdb.retention.time=2d >"$dir/prometheus.log" 2>&1 </dev/null &
    echo $! > "$dir/pid"
    for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && break; sleep 0.2; done
    echo "[prometheus] up on http://127.0.0.1:$port"
    ;;
  stop)
    [ -s "$dir/pid" ] && kill "$(cat "$dir/pid")" 2>/dev/null || true
    rm -f "$dir/pid"
    ;;
  url) echo "http://127.0.0.1:$port" ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
