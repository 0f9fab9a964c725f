#!/usr/bin/env bash
# Start the whole portal on one machine, for a small event:
#   nginx (TLS, static files) -> gunicorn (N workers) -> PostgreSQL
#   2 Celery workers + Celery beat -> Redis
# Everything listens on loopback only; pids and logs go under var/run.
#
#   deploy/run-all.sh [start] [--port 8443] [--workers 3] [--env-file FILE]
#   deploy/run-all.sh stop
#   deploy/run-all.sh status
#
# Settings come from the environment, filled in from an env file (default
# deploy/portal.env if present; see deploy/portal.env.example) for every
# variable the environment does not already set. PostgreSQL and Redis are not
# started here: point DATABASE_URL and REDIS_URL at running servers.
#
# Knobs (environment): PORTAL_PORT (nginx, 8443), PORTAL_LISTEN_ADDRESS (nginx,
# 127.0.0.1; the machine's LAN address lets tablets in), WEB_CONCURRENCY (gunicorn
# workers, 2), GUNICORN_BIND (127.0.0.1:8001), CELERY_WORKERS (2),
# CELERY_CONCURRENCY (2 per worker), CELERY_NODE_PREFIX (portal),
# PORTAL_RUN_DIR (var/run), PORTAL_TLS_CERT / PORTAL_TLS_KEY (default: a
# self-signed pair made once under the run dir), PORTAL_TLS=off (plain HTTP;
# only with DJANGO_DEBUG=1, secure cookies need HTTPS), PORTAL_SKIP_SETUP=1
# (skip migrate and collectstatic), PORTAL_START_TIMEOUT (60 s).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

action=start
env_file=""
while [ $# -gt 0 ]; do
  case "$1" in
    start|stop|status) action="$1" ;;
    --port) PORTAL_PORT="$2"; shift ;;
    --workers) WEB_CONCURRENCY="$2"; shift ;;
    --env-file) env_file="$2"; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "run-all.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

# Values already in the environment win over the file, so a test or an
# operator can override one setting without editing the file.
load_env_file() {
  local file="$1" line key value
  while IFS= read -r line || [ -n "$line" ]; do
    line="${line#"${line%%[![:space:]]*}"}"
    case "$line" in ''|'#'*) continue ;; esac
    line="${line#export }"
    key="${line%%=*}"
    value="${line#*=}"
    [[ "$key" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
    # systemd-style quoting: one pair of surrounding quotes is dropped.
    if [[ "$value" =~ ^\"(.*)\"$ ]] || [[ "$value" =~ ^\'(.*)\'$ ]]; then
      value="${BASH_REMATCH[1]}"
    fi
    if [ -z "${!key+set}" ]; then export "$key=$value"; fi
  done < "$file"
}
if [ -z "$env_file" ] && [ -f deploy/portal.env ]; then env_file=deploy/portal.env; fi
if [ -n "$env_file" ]; then load_env_file "$env_file"; fi

RUN_DIR="$(mkdir -p "${PORTAL_RUN_DIR:-var/run}" && cd "${PORTAL_RUN_DIR:-var/run}" && pwd)"
LOG_DIR="$RUN_DIR/logs"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
BIN="$(dirname "$PY")"
PORT="${PORTAL_PORT:-8443}"
LISTEN="${PORTAL_LISTEN_ADDRESS:-127.0.0.1}"
export WEB_CONCURRENCY="${WEB_CONCURRENCY:-2}"
export GUNICORN_BIND="${GUNICORN_BIND:-127.0.0.1:8001}"
export GUNICORN_CONTROL_SOCKET="${GUNICORN_CONTROL_SOCKET:-$RUN_DIR/gunicorn.ctl}"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-portal.settings}"
CELERY_WORKERS="${CELERY_WORKERS:-2}"
CELERY_CONCURRENCY="${CELERY_CONCURRENCY:-2}"
NODE_PREFIX="${CELERY_NODE_PREFIX:-portal}"
# Stop order: the front door first, so no new work arrives while the rest drains.
SERVICES=(nginx web beat)
for i in $(seq 1 "$CELERY_WORKERS"); do SERVICES+=("worker$i"); done

alive() { [ -f "$RUN_DIR/$1.pid" ] && kill -0 "$(cat "$RUN_DIR/$1.pid")" 2> /dev/null; }

# Each service in its own session (pid = process group id), so stopping it
# reaches its children (gunicorn's and Celery's pool processes) too.
spawn() {
  local name="$1"; shift
  setsid "$@" >> "$LOG_DIR/$name.log" 2>&1 < /dev/null &
  echo $! > "$RUN_DIR/$name.pid"
}

stop_all() {
  local name pid pids=() deadline
  for name in "$RUN_DIR"/*.pid; do
    [ -e "$name" ] || continue
    name="$(basename "$name" .pid)"
    pid="$(cat "$RUN_DIR/$name.pid")"
    if kill -0 "$pid" 2> /dev/null; then
      # TERM: nginx and gunicorn finish their requests, Celery its tasks
      # (tasks are acknowledged late, so a task cut off later runs again).
      kill -TERM -- "-$pid" 2> /dev/null || kill -TERM "$pid" 2> /dev/null || true
      pids+=("$pid")
    fi
    rm -f "$RUN_DIR/$name.pid"
  done
  deadline=$((SECONDS + ${PORTAL_STOP_TIMEOUT:-30}))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2> /dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    if kill -0 "$pid" 2> /dev/null; then
      echo "run-all.sh: $pid did not stop in time; killing its process group" >&2
      kill -KILL -- "-$pid" 2> /dev/null || true
    fi
  done
  rm -f "$GUNICORN_CONTROL_SOCKET"
}

status() {
  local name rc=0
  for name in "${SERVICES[@]}"; do
    if alive "$name"; then
      echo "$name: running (pid $(cat "$RUN_DIR/$name.pid"))"
    else
      echo "$name: stopped"; rc=3
    fi
  done
  return $rc
}

case "$action" in
  stop) stop_all; echo "stopped (run dir $RUN_DIR)"; exit 0 ;;
  status) status; exit $? ;;
esac

# ------------------------------------------------------------------ start
command -v nginx > /dev/null || { echo "run-all.sh: nginx is not installed (apt-get install nginx-light)" >&2; exit 1; }
for name in "${SERVICES[@]}"; do
  if alive "$name"; then
    echo "run-all.sh: $name is already running from $RUN_DIR; run 'deploy/run-all.sh stop' first" >&2
    exit 1
  fi
done
[ -n "${REDIS_URL:-}" ] || { echo "run-all.sh: set REDIS_URL (Celery needs a broker)" >&2; exit 1; }
mkdir -p "$LOG_DIR" "$RUN_DIR/nginx/tmp" "$RUN_DIR/nginx/logs"

if [ "${PORTAL_SKIP_SETUP:-0}" != "1" ]; then
  "$PY" manage.py migrate --noinput > "$LOG_DIR/setup.log" 2>&1 \
    || { echo "run-all.sh: migrate failed, see $LOG_DIR/setup.log" >&2; tail -20 "$LOG_DIR/setup.log" >&2; exit 1; }
  "$PY" manage.py collectstatic --noinput >> "$LOG_DIR/setup.log" 2>&1 \
    || { echo "run-all.sh: collectstatic failed, see $LOG_DIR/setup.log" >&2; tail -20 "$LOG_DIR/setup.log" >&2; exit 1; }
fi
STATIC_ROOT="$("$PY" -c 'import django; django.setup(); from django.conf import settings; print(settings.STATIC_ROOT)')"

# TLS: tablets need a secure origin (service worker, secure cookies). Without
# a real certificate a self-signed one is made once for loopback.
scheme=https
if [ "${PORTAL_TLS:-on}" = "off" ]; then
  scheme=http
elif [ -z "${PORTAL_TLS_CERT:-}" ]; then
  PORTAL_TLS_CERT="$RUN_DIR/tls/cert.pem"
  PORTAL_TLS_KEY="$RUN_DIR/tls/key.pem"
  if [ ! -s "$PORTAL_TLS_CERT" ]; then
    mkdir -p "$RUN_DIR/tls"
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=localhost" \
      -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
      -keyout "$PORTAL_TLS_KEY" -out "$PORTAL_TLS_CERT" > "$LOG_DIR/tls.log" 2>&1
    chmod 600 "$PORTAL_TLS_KEY"
  fi
fi

# nginx: the site file of deploy/nginx/portal.conf with this machine's ports
# and paths, inside a main config with its own prefix, pid and temp dirs, so
# it never touches a system nginx.
site="$RUN_DIR/nginx/portal.conf"
sed -e '/# BEGIN http-redirect/,/# END http-redirect/d' \
    -e "s#server 127.0.0.1:8001 #server $GUNICORN_BIND #" \
    -e "s#alias /srv/portal/var/static/;#alias $STATIC_ROOT/;#" \
    -e "s#server_name portal.example.org;#server_name _;#" \
    deploy/nginx/portal.conf > "$site"
if [ "$scheme" = https ]; then
  sed -i -e "s#listen 443 ssl http2;#listen $LISTEN:$PORT ssl http2;#" \
         -e "s#/etc/ssl/portal/fullchain.pem#$PORTAL_TLS_CERT#" \
         -e "s#/etc/ssl/portal/privkey.pem#$PORTAL_TLS_KEY#" "$site"
else
  sed -i -e "s#listen 443 ssl http2;#listen $LISTEN:$PORT;#" -e '/ssl_/d' "$site"
fi
grep -q "listen $LISTEN:$PORT" "$site" || { echo "run-all.sh: could not render $site" >&2; exit 1; }
nginx_user=""
# As root nginx would drop its workers to nobody, who may not read a static
# root under a private home or temp dir; loopback only, so keep the caller.
if [ "$(id -u)" = 0 ]; then nginx_user="user ${PORTAL_NGINX_USER:-root};"; fi
cat > "$RUN_DIR/nginx/nginx.conf" <<CONF
# Written by deploy/run-all.sh; edit deploy/nginx/portal.conf instead.
$nginx_user
daemon off;
worker_processes auto;
pid $RUN_DIR/nginx/nginx.pid;
error_log $LOG_DIR/nginx-error.log warn;
events { worker_connections 2048; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    server_tokens off;
    client_body_temp_path $RUN_DIR/nginx/tmp/body;
    proxy_temp_path $RUN_DIR/nginx/tmp/proxy;
    fastcgi_temp_path $RUN_DIR/nginx/tmp/fastcgi;
    uwsgi_temp_path $RUN_DIR/nginx/tmp/uwsgi;
    scgi_temp_path $RUN_DIR/nginx/tmp/scgi;
    log_format timed '\$remote_addr [\$time_local] "\$request" \$status \$body_bytes_sent '
                     'rt=\$request_time urt=\$upstream_response_time "\$http_user_agent"';
    access_log $LOG_DIR/nginx-access.log timed;
    include $site;
}
CONF
nginx -t -q -p "$RUN_DIR/nginx" -c "$RUN_DIR/nginx/nginx.conf" > "$LOG_DIR/nginx-test.log" 2>&1 \
  || { echo "run-all.sh: nginx configuration invalid:" >&2; cat "$LOG_DIR/nginx-test.log" >&2; exit 1; }

# From here on a failure stops whatever was started.
trap 'echo "run-all.sh: start failed; stopping" >&2; stop_all; exit 1' ERR

spawn web "$BIN/gunicorn" -c deploy/gunicorn.conf.py portal.wsgi:application
for i in $(seq 1 "$CELERY_WORKERS"); do
  spawn "worker$i" "$BIN/celery" -A portal worker --loglevel INFO \
    --hostname "$NODE_PREFIX-w$i@%h" --concurrency "$CELERY_CONCURRENCY"
done
spawn beat "$BIN/celery" -A portal beat --loglevel INFO \
  --schedule "$RUN_DIR/celerybeat-schedule"
spawn nginx nginx -p "$RUN_DIR/nginx" -c "$RUN_DIR/nginx/nginx.conf"

case "$LISTEN" in 0.0.0.0|'*') probe=127.0.0.1 ;; *) probe="$LISTEN" ;; esac
url="$scheme://$probe:$PORT"
deadline=$((SECONDS + ${PORTAL_START_TIMEOUT:-60}))
until curl -fsk -o /dev/null --max-time 2 "$url/healthz"; do
  for name in "${SERVICES[@]}"; do
    if ! alive "$name"; then
      echo "run-all.sh: $name exited during start; last lines of $LOG_DIR/$name.log:" >&2
      tail -20 "$LOG_DIR/$name.log" >&2 || true
      false
    fi
  done
  if [ $SECONDS -ge $deadline ]; then
    echo "run-all.sh: $url/healthz did not answer in time" >&2
    tail -20 "$LOG_DIR/web.log" "$LOG_DIR/nginx-error.log" >&2 || true
    false
  fi
  sleep 0.5
done
trap - ERR

cat <<TXT
portal running at $url/  (run dir $RUN_DIR)
  nginx     pid $(cat "$RUN_DIR/nginx.pid")
  gunicorn  pid $(cat "$RUN_DIR/web.pid"), $WEB_CONCURRENCY workers on $GUNICORN_BIND
  celery    $CELERY_WORKERS workers ($NODE_PREFIX-w1..w$CELERY_WORKERS, concurrency $CELERY_CONCURRENCY each) + beat
  logs      $LOG_DIR
stop with: deploy/run-all.sh stop$( [ "$RUN_DIR" = "$ROOT/var/run" ] || echo " (PORTAL_RUN_DIR=$RUN_DIR)")
TXT
