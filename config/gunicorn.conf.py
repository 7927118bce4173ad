"""gunicorn settings for production: `gunicorn -c config/gunicorn.conf.py 'cairn:create_app()'`."""

import multiprocessing
import os

from cairn.config import load_settings

bind = os.environ.get("CAIRN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("CAIRN_WEB_WORKERS", multiprocessing.cpu_count() * 2 + 1))
# Each open live-update stream (Server-Sent Events) holds one of these threads while its page is
# open; the app refuses streams past `live_max_streams` (24 by default), so the other threads keep
# serving ordinary requests. An idle stream thread costs little memory.
threads = int(os.environ.get("CAIRN_WEB_THREADS", 32))
_live_streams = int(load_settings()["live_max_streams"])
if _live_streams >= threads:
    raise RuntimeError(f"live_max_streams ({_live_streams}) must be below the gunicorn threads per worker "
                       f"({threads}): raise CAIRN_WEB_THREADS or lower CAIRN_LIVE_MAX_STREAMS")
worker_class = "gthread"
timeout = 60
graceful_timeout = 30
keepalive = 5
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("CAIRN_FORWARDED_ALLOW_IPS", "127.0.0.1")
