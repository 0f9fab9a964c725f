"""gunicorn settings for the portal (``gunicorn -c deploy/gunicorn.conf.py portal.wsgi``).

Every value can be set from the environment (the systemd unit reads
/etc/portal/portal.env; deploy/run-all.sh reads deploy/portal.env), so one file
serves a laptop at a small event and a web node of a large one.

gunicorn always sits behind nginx: nginx absorbs slow tablets on venue Wi-Fi
(it buffers the whole request body and the whole response), so a worker is
busy only for the time Django needs, not for the time a tablet needs.
"""

from __future__ import annotations

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# Where nginx finds us. Loopback on one machine; a private address on a web
# node of a larger event (and then that address in PORTAL_TRUSTED_PROXIES).
bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8001")]

# Workers are processes: each holds a Django app and one database connection
# per thread. WEB_CONCURRENCY is the name most platforms use; the default
# follows gunicorn's rule of thumb (2 x cores + 1).
workers = _int("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1)
# A few threads per worker let keep-alive connections from nginx and short
# requests overlap with a slow database call; marks are written in short
# transactions, so threads rarely wait on each other.
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 2)

# A request that takes longer than this is a bug or a stuck database: the
# worker is killed and restarted. Long work (certificates, big exports) runs in
# Celery, never in a request. Kept below nginx's proxy_read_timeout (75 s) so
# the client sees a 502 from a recycled worker rather than a hung socket.
timeout = _int("GUNICORN_TIMEOUT", 60)
# On SIGTERM/HUP finishing requests get this long: a mark being saved is not cut off.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# nginx keeps upstream connections open (keepalive in the upstream block);
# keep ours open a little longer than nginx's idle timeout would close them.
keepalive = _int("GUNICORN_KEEPALIVE", 75)

# Recycle workers now and then so a slow leak in a library never grows into a
# problem on day three of a final. A restart costs a worker ~1 s of CPU (Django
# imported afresh) and its share of requests waits meanwhile, so it must be
# rare and never all workers at once. The old 2000 (+ up to 200) recycled
# every worker of a node within seconds of each other about once a minute at a
# national final's rate (~900 requests/s over ~20 workers, deploy/README.md),
# and mid-burst in benchmarks/tablets.py. 50,000 + up to 25,000 recycles a
# worker every ~20-30 minutes there, spread over a window of ~9 minutes; each
# worker draws its own jitter again on every restart, so they drift apart.
max_requests = _int("GUNICORN_MAX_REQUESTS", 50_000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", max_requests // 2)

# Only nginx may tell us the original scheme (X-Forwarded-Proto); Django reads
# the same header through SECURE_PROXY_SSL_HEADER.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# The heartbeat file on tmpfs: a worker on a slow disk is not mistaken for a hung one.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# gunicorn 23+ opens a control socket in ~/.gunicorn by default, which several
# gunicorns on one machine would share; give it a place of our own, or none.
_control = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
if _control:
    control_socket = _control
else:
    control_socket_disable = True

# Logs go to stdout/stderr: journald under systemd, var/run/logs under run-all.sh.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Client address as nginx saw it, request, status, bytes, and the request time
# in seconds (%(L)s) and microseconds (%(D)s): enough to compute mark latency
# percentiles straight from the log.
access_log_format = (
    '%({x-forwarded-for}i)s %(h)s %(u)s %(t)s "%(r)s" %(s)s %(b)s '
    '"%(f)s" "%(a)s" rt=%(L)s us=%(D)s worker=%(p)s'
)

proc_name = os.environ.get("GUNICORN_PROC_NAME", "portal-web")
