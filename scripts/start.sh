#!/usr/bin/env bash
# Set up and serve the portal with a demo programme.
# SQLite and eager Celery by default; DATABASE_URL / REDIS_URL switch to
# PostgreSQL and Redis. PORT (default 8000) and HOST (default 127.0.0.1);
# RESEED=1 rebuilds the demo programme from scratch. Installs the runtime
# requirements only (no test tools, no browser).
REQUIREMENTS=requirements.txt
source "$(dirname "$0")/bootstrap.sh"
.venv/bin/python manage.py migrate --noinput
if [ "${RESEED:-0}" = "1" ]; then
  .venv/bin/python manage.py seed_demo --reset
else
  .venv/bin/python manage.py seed_demo --if-empty
fi
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
cat <<TXT

  The portal is at  http://$HOST:$PORT/
  Organisers' console: http://$HOST:$PORT/admin/
  (demo logins are listed above; stop with Ctrl-C)

TXT
exec .venv/bin/python manage.py runserver "$HOST:$PORT"
