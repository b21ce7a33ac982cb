#!/usr/bin/env bash
# `make run`: the web server (gunicorn) and the scheduler process side by side; Ctrl-C (or SIGTERM)
# stops both, and if either one dies the other is stopped too. Production uses two systemd units
# instead (deploy/pengaduan-web.service, deploy/pengaduan-scheduler.service).
set -u
VENV=${VENV:-.venv}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8080}
WORKERS=${WORKERS:-2}

"$VENV/bin/flask" --app run scheduler run &
scheduler=$!
# A short graceful timeout: on a developer's Ctrl-C, idle keep-alive connections must not hold the
# workers for gunicorn's default 30 s.
"$VENV/bin/gunicorn" --bind "$HOST:$PORT" --workers "$WORKERS" --threads 4 --graceful-timeout 5 \
    --access-logfile - 'run:app' &
web=$!

# Forward the signal we got (a terminal's Ctrl-C already reached both; a repeat is harmless).
stop() {
    trap - INT TERM
    kill "-$1" "$web" "$scheduler" 2>/dev/null
    wait "$web" "$scheduler" 2>/dev/null
}
trap 'stop INT; exit 130' INT
trap 'stop TERM; exit 143' TERM

# Whichever ends first (a crash, or a signal to one of them) ends the pair.
wait -n "$web" "$scheduler"
status=$?
stop TERM
exit "$status"
