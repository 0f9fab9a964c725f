# Sourced by the other scripts: a virtualenv with the project's requirements.
# Python 3.11 is the only thing a fresh machine needs.
#   REQUIREMENTS=requirements.txt      the runtime (scripts/start.sh), pinned by requirements.lock
#   REQUIREMENTS=requirements-dev.txt  the runtime + test tools (scripts/test.sh), pinned by
#                                      requirements-dev.lock
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# The scripts run on a developer's machine: settings default to production
# (debugging off, a secret key required) unless told so.
export DJANGO_DEBUG="${DJANGO_DEBUG:-1}"
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
REQUIREMENTS="${REQUIREMENTS:-requirements.txt}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# Install the pinned versions from the lock file beside the requirements
# (requirements.txt keeps the ranges; pip-compile writes the .lock files:
#   .venv/bin/pip-compile --strip-extras --no-emit-index-url --no-emit-find-links \
#       --output-file requirements-dev.lock requirements-dev.txt   (and the same for requirements)
# ). Reinstall only when the lock changed since the last install of this set.
LOCK="${REQUIREMENTS%.txt}.lock"
stamp=".venv/.$(basename "$LOCK").sha"
want=$(sha256sum "$LOCK" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r "$LOCK"
  echo "$want" > "$stamp"
fi
# Django also compiles stale catalogues when it starts (portal/apps.py).
.venv/bin/python portal/i18n.py > /dev/null
