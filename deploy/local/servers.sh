#!/usr/bin/env bash
# Installs (from Debian) and starts PostgreSQL, Redis, RabbitMQ and Postfix for Petition, bound to 127.0.0.1,
# with all their data under one folder. Safe to run again: a server already up is left alone.
#   deploy/local/servers.sh start|stop [postgres|redis|rabbitmq|postfix] | status | env | ctl <rabbitmqctl args> | install <package...>
# PETITION_DATA picks the data folder (default: <repo>/.data). Ports: PETITION_PG_PORT (5433),
# PETITION_REDIS_PORT (6380), PETITION_AMQP_PORT (5673), PETITION_SMTP_PORT (2525). Secrets are generated once
# into $PETITION_DATA/secrets.env.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
data=${PETITION_DATA:-$repo/.data}
pg_port=${PETITION_PG_PORT:-5433}
redis_port=${PETITION_REDIS_PORT:-6380}
amqp_port=${PETITION_AMQP_PORT:-5673}
smtp_port=${PETITION_SMTP_PORT:-2525}
amqp_dist_port=$((amqp_port + 20000))
rabbit_metrics_port=$((amqp_port + 10019)) # 15692 for the local run: RabbitMQ's own Prometheus endpoint
pg_bin=/usr/lib/postgresql/15/bin
rabbit_node=petition-$amqp_port@localhost

log() { printf '[servers] %s\n' "$*" >&2; }

install_packages() {
  local missing=()
  [ -x "$pg_bin/pg_ctl" ] || missing+=(postgresql-15)
  command -v psql >/dev/null || missing+=(postgresql-client-15)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v rabbitmq-server >/dev/null || missing+=(rabbitmq-server)
  if ! command -v postfix >/dev/null; then
    missing+=(postfix)
    # Installed unconfigured: this project runs an instance of its own (start_postfix), never the system's.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  fi
  apt_install "${missing[@]}"
}

apt_install() { # apt_install <package...>: from Debian; every script's installs go through it (servers.sh install)
  [ $# -eq 0 ] && return 0
  log "installing $* from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

new_secret() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; } # 48 hex digits

secrets() {
  mkdir -p "$data"
  if [ ! -s "$data/secrets.env" ]; then
    umask 077
    cat > "$data/secrets.env" <<SECRETS
PETITION_PG_PASSWORD=$(new_secret)
PETITION_REDIS_PASSWORD=$(new_secret)
PETITION_AMQP_PASSWORD=$(new_secret)
PETITION_ADMIN_KEY=$(new_secret)
PETITION_DEDUP_SECRET=$(new_secret)
SECRETS
    umask 022
  fi
  # Secrets added since a secrets.env was first written are appended, the others kept.
  if ! grep -q '^PETITION_CONTACT_KEY=' "$data/secrets.env"; then
    echo "PETITION_CONTACT_KEY=$(new_secret)" >> "$data/secrets.env"
  fi
  # shellcheck disable=SC1091
  . "$data/secrets.env"
}

wait_for() { # wait_for <what> <seconds> <command...>
  local what=$1 secs=$2; shift 2
  for _ in $(seq 1 $((secs * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  log "$what did not come up within ${secs}s"; return 1
}

pg_up() { "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port"; }
start_postgres() {
  local dir=$data/postgres
  if [ ! -s "$dir/PG_VERSION" ]; then
    log "initialising PostgreSQL in $dir"
    mkdir -p "$dir"; chown postgres:postgres "$dir"; chmod 700 "$dir"
    local pw; pw=$(mktemp); echo "$PETITION_PG_PASSWORD" > "$pw"; chown postgres "$pw"
    runuser -u postgres -- "$pg_bin/initdb" -D "$dir" -U petition --pwfile="$pw" \
      --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pw"
    cat >> "$dir/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$dir'
max_connections = 200
shared_buffers = 512MB
synchronous_commit = on
CONF
  fi
  pg_up && { log "PostgreSQL already up on 127.0.0.1:$pg_port"; return 0; }
  runuser -u postgres -- "$pg_bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start >/dev/null
  wait_for PostgreSQL 30 pg_up
  log "PostgreSQL up on 127.0.0.1:$pg_port"
}
ensure_database() { # ensure_database <name>: the services migrate the schema themselves
  local psql=(env PGPASSWORD="$PETITION_PG_PASSWORD" psql -qAt -h 127.0.0.1 -p "$pg_port" -U petition -d postgres)
  [ "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$1'")" = 1 ] || "${psql[@]}" -c "CREATE DATABASE \"$1\""
}
stop_postgres() {
  [ -s "$data/postgres/PG_VERSION" ] || return 0
  runuser -u postgres -- "$pg_bin/pg_ctl" -D "$data/postgres" -m fast -w stop >/dev/null 2>&1 || true
}

redis_cli() { REDISCLI_AUTH=$PETITION_REDIS_PASSWORD redis-cli -h 127.0.0.1 -p "$redis_port" "$@"; }
redis_up() { [ "$(redis_cli ping 2>/dev/null)" = PONG ]; }
start_redis() {
  redis_up && { log "Redis already up on 127.0.0.1:$redis_port"; return 0; }
  mkdir -p "$data/redis"
  # A cache, not a store: PostgreSQL is the final word on duplicates, so nothing is persisted (an AOF
  # rewrite of a large cache took 11 s of a core mid-benchmark) and memory is bounded; an evicted or
  # lost signer only costs PostgreSQL its own check.
  redis-server --daemonize yes --bind 127.0.0.1 --port "$redis_port" --dir "$data/redis" \
    --requirepass "$PETITION_REDIS_PASSWORD" --appendonly no --save "" \
    --maxmemory "${PETITION_REDIS_MAXMEMORY:-1gb}" --maxmemory-policy allkeys-lru \
    --logfile "$data/redis/redis.log" --pidfile "$data/redis/redis.pid"
  wait_for Redis 20 redis_up
  log "Redis up on 127.0.0.1:$redis_port"
}
stop_redis() { redis_up && redis_cli shutdown nosave >/dev/null 2>&1 || true; }

rabbit_env() {
  export RABBITMQ_NODENAME=$rabbit_node RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$amqp_port \
    RABBITMQ_DIST_PORT=$amqp_dist_port RABBITMQ_MNESIA_BASE=$data/rabbitmq/mnesia \
    RABBITMQ_LOG_BASE=$data/rabbitmq/log RABBITMQ_CONFIG_FILE=$data/rabbitmq/rabbitmq \
    RABBITMQ_ENABLED_PLUGINS_FILE=$data/rabbitmq/enabled_plugins ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}
rabbit_up() { rabbitmq-diagnostics -q -n "$rabbit_node" check_port_connectivity >/dev/null 2>&1; }
start_rabbitmq() {
  rabbit_env
  if rabbit_up; then log "RabbitMQ already up on 127.0.0.1:$amqp_port"; else
    mkdir -p "$data/rabbitmq/mnesia" "$data/rabbitmq/log"
    cat > "$data/rabbitmq/rabbitmq.conf" <<CONF
listeners.tcp.1 = 127.0.0.1:$amqp_port
loopback_users = none
consumer_timeout = 900000
prometheus.tcp.ip = 127.0.0.1
prometheus.tcp.port = $rabbit_metrics_port
prometheus.return_per_object_metrics = true
CONF
    # Queue depth and rates for the dashboard come from RabbitMQ's own exporter.
    echo '[rabbitmq_prometheus].' > "$data/rabbitmq/enabled_plugins"
    chown -R rabbitmq:rabbitmq "$data/rabbitmq"
    # -detached fails silently here, so run it in the foreground, in the background of this shell.
    nohup setsid rabbitmq-server > "$data/rabbitmq/log/console.log" 2>&1 &
    wait_for RabbitMQ 90 rabbit_up
    log "RabbitMQ up on 127.0.0.1:$amqp_port"
  fi
  # The application's own user, with the generated password (guest stays loopback-only).
  rabbitmqctl -q -n "$rabbit_node" add_user petition "$PETITION_AMQP_PASSWORD" >/dev/null 2>&1 \
    || rabbitmqctl -q -n "$rabbit_node" change_password petition "$PETITION_AMQP_PASSWORD" >/dev/null
  rabbitmqctl -q -n "$rabbit_node" set_permissions -p / petition '.*' '.*' '.*' >/dev/null
}
stop_rabbitmq() { rabbit_env; rabbitmqctl -q -n "$rabbit_node" stop >/dev/null 2>&1 || true; }

# A Postfix instance of its own (its own main.cf, queue and log under $data/postfix) that accepts mail from
# 127.0.0.1 only and delivers every recipient, whatever the domain, to one local Maildir (postfix/mail/inbox):
# the mailbox the tests read, and where the local run's mails land. Nothing is relayed anywhere. Recipients at
# undeliverable.test are refused at RCPT (550), as a real relay refuses an address that does not exist.
postfix_dir() { echo "$data/postfix"; }
postfix_up() { postfix -c "$(postfix_dir)/etc" status >/dev/null 2>&1; }
start_postfix() {
  local pf; pf=$(postfix_dir)
  postfix_up && { log "Postfix already up on 127.0.0.1:$smtp_port"; return 0; }
  mkdir -p "$pf/etc" "$pf/queue" "$pf/lib" "$pf/mail"
  cat > "$pf/etc/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $pf/queue
data_directory = $pf/lib
mail_owner = postfix
setgid_group = postdrop
myhostname = petition.localhost
mydomain = localhost
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
relayhost =
maillog_file_prefixes = $pf
maillog_file = $pf/postfix.log
smtpd_banner = \$myhostname ESMTP
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = check_recipient_access inline:{ { undeliverable.test = 550 5.1.1 No such mailbox } }, permit_mynetworks, reject
message_size_limit = 1048576
virtual_mailbox_domains = static:all
virtual_mailbox_base = $pf/mail
virtual_mailbox_maps = static:inbox/
virtual_uid_maps = static:$(id -u postfix)
virtual_gid_maps = static:$(id -g postfix)
virtual_minimum_uid = 1
local_recipient_maps =
biff = no
CONF
  # Only the services this instance needs, none chrooted (Debian's chroot wants files copied into the queue).
  cat > "$pf/etc/master.cf" <<CONF
127.0.0.1:$smtp_port inet n - n - - smtpd
pickup    unix n - n 60 1 pickup
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
virtual   unix - n n - - virtual
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
CONF
  chown -R postfix "$pf/mail" "$pf/lib"
  # postfix(1) tells why it failed only on a terminal or in its log.
  postfix -c "$pf/etc" start >/dev/null 2>&1 || { tail -5 "$pf/postfix.log" >&2 || true; log "Postfix did not start"; return 1; }
  wait_for Postfix 20 postfix_up
  log "Postfix up on 127.0.0.1:$smtp_port (mailbox $pf/mail/inbox)"
}
stop_postfix() { postfix_up && postfix -c "$(postfix_dir)/etc" stop >/dev/null 2>&1 || true; }

print_env() {
  cat <<ENV
export ConnectionStrings__Postgres='Host=127.0.0.1;Port=$pg_port;Username=petition;Password=$PETITION_PG_PASSWORD;Database=petition'
export ConnectionStrings__Redis='127.0.0.1:$redis_port,password=$PETITION_REDIS_PASSWORD,abortConnect=false'
export ConnectionStrings__RabbitMq='amqp://petition:$PETITION_AMQP_PASSWORD@127.0.0.1:$amqp_port/'
export Petition__AdminApiKey='$PETITION_ADMIN_KEY'
export Petition__DedupSecret='$PETITION_DEDUP_SECRET'
export Petition__ContactEmailKey='$PETITION_CONTACT_KEY'
export Mail__SmtpHost='127.0.0.1'
export Mail__SmtpPort='$smtp_port'
ENV
}

# Sourced (by cluster.sh) for its functions only: no command to run.
if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then return 0; fi

case "${1:-start}:${2:-all}" in
  start:all) install_packages; secrets; start_postgres; ensure_database petition; start_redis; start_rabbitmq; start_postfix ;;
  stop:all) secrets; stop_postfix; stop_rabbitmq; stop_redis; stop_postgres; log "stopped" ;;
  # One server at a time, for the outage tests and for operators.
  start:postgres) secrets; start_postgres ;;
  stop:postgres) secrets; stop_postgres ;;
  start:redis) secrets; start_redis ;;
  stop:redis) secrets; stop_redis ;;
  start:rabbitmq) secrets; start_rabbitmq ;;
  stop:rabbitmq) secrets; stop_rabbitmq ;;
  start:postfix) start_postfix ;;
  stop:postfix) stop_postfix ;;
  status:*) secrets; rabbit_env; pg_up && echo "postgres up" || echo "postgres down"
          redis_up && echo "redis up" || echo "redis down"; rabbit_up && echo "rabbitmq up" || echo "rabbitmq down"
          postfix_up && echo "postfix up" || echo "postfix down" ;;
  env:*) secrets; print_env ;;
  # rabbitmqctl against this node, with the environment the CLI needs here (e.g. ctl list_queues name messages).
  ctl:*) rabbit_env; shift; rabbitmqctl -q -n "$rabbit_node" "$@" ;;
  # Debian packages the other scripts and the tests need (chromium, prometheus): those not installed yet.
  install:*) shift; missing=()
             for package in "$@"; do
               [ "$(dpkg-query -W -f '${Status}' "$package" 2>/dev/null)" = "install ok installed" ] || missing+=("$package")
             done
             apt_install "${missing[@]}" ;;
  *) echo "usage: $0 start|stop [postgres|redis|rabbitmq|postfix] | status | env | ctl <rabbitmqctl args> | install <package...>" >&2; exit 2 ;;
esac
