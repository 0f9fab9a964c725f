# Sourced by the other scripts: a virtualenv with the project's requirements.
# Python 3.11 is the only thing a fresh machine needs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# The scripts run on a developer's machine: settings default to production
# (debugging off, a secret key required) unless told so.
export DJANGO_DEBUG="${DJANGO_DEBUG:-1}"
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# Reinstall only when a requirements file changed since the last install.
stamp=.venv/.requirements.sha
want=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements-dev.txt
  echo "$want" > "$stamp"
fi
.venv/bin/python portal/i18n.py > /dev/null
