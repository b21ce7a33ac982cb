#!/bin/bash
# Layanan Pengaduan Online — production install on Debian 12 (bookworm) or 13 (trixie).
#
#   sudo SERVER_NAME=pengaduan.lumajangkab.go.id deploy/install.sh
#
# Run from the unpacked release (the folder holding run.py). Idempotent: a second run changes nothing;
# a run after unpacking a new release copies the new code, installs the new pinned requirements,
# applies the migrations (`flask setup`) and restarts the web and scheduler services.
#
# Settings (environment variables, all optional except SERVER_NAME on a real server):
#   SERVER_NAME          the public host name (nginx server_name, PUBLIC_BASE_URL)
#   TLS_CERTIFICATE      certificate chain (PEM); TLS_CERTIFICATE_KEY its key. When both are unset a
#                        self-signed certificate is made in /etc/pengaduan/tls (replace it, e.g. with certbot)
#   WEB_PORT=8080        gunicorn's port on 127.0.0.1;  WEB_WORKERS=4
#   DB_NAME=pengaduan    PostgreSQL database and role (peer authentication over the local socket)
#   REDIS_DB=0           Redis database number for the rate-limit counters
#
# Dry mode for tests and for reading what it would do: ROOT=/some/dir writes every file under that folder
# (ROOT/etc/…, ROOT/opt/…) and skips — saying so — what needs a real Debian system as root: apt-get,
# the system user, PostgreSQL (a SQLite file under ROOT instead), Redis, systemctl, nginx reload.
# VENV=/path/to/.venv there uses an existing virtual environment instead of making one.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT=${ROOT:-}
ROOT=${ROOT%/}
DRY=$([ -n "$ROOT" ] && echo 1 || echo 0)
APP_USER=pengaduan
PREFIX_REAL=/opt/pengaduan
PREFIX=$ROOT$PREFIX_REAL
ETC=$ROOT/etc/pengaduan
ENV_FILE=$ETC/env
INSTANCE=$PREFIX/instance
LOG_DIR=$ROOT/var/log/pengaduan
SYSTEMD=$ROOT/etc/systemd/system
NGINX_SITE=$ROOT/etc/nginx/sites-available/pengaduan
NGINX_LINK=$ROOT/etc/nginx/sites-enabled/pengaduan
LOGROTATE=$ROOT/etc/logrotate.d/pengaduan
SERVER_NAME=${SERVER_NAME:-$(hostname -f 2>/dev/null || hostname)}
WEB_PORT=${WEB_PORT:-8080}
WEB_WORKERS=${WEB_WORKERS:-4}
DB_NAME=${DB_NAME:-pengaduan}
REDIS_DB=${REDIS_DB:-0}
VENV=${VENV:-$PREFIX/.venv}

changed=0
skipped=()
note() { printf 'install: %s\n' "$*"; }
change() { changed=$((changed + 1)); note "changed: $*"; }
skip() { skipped+=("$*"); note "SKIPPED (ROOT=$ROOT): $*"; }
real() { [ "$DRY" = 0 ]; }

# put SOURCE DEST MODE: install a file only when its content or mode differs.
put() {
    local src=$1 dest=$2 mode=$3
    if [ -f "$dest" ] && cmp -s "$src" "$dest" && [ "$(stat -c %a "$dest")" = "$mode" ]; then
        return 0
    fi
    install -D -m "$mode" "$src" "$dest"
    change "$dest"
}

# render TEMPLATE DEST MODE NAME=VALUE…: fill @NAME@ placeholders (deploy/render.py), install when different.
render() {
    local template=$1 dest=$2 mode=$3
    shift 3
    local tmp
    tmp=$(mktemp)
    python3 "$SRC/deploy/render.py" "$template" "$tmp" "$@" >/dev/null
    put "$tmp" "$dest" "$mode"
    rm -f "$tmp"
}

as_app() {  # run a command as the service user with the settings of /etc/pengaduan/env
    if real; then
        runuser -u "$APP_USER" -- env $(grep -v '^#' "$ENV_FILE" | xargs) "$@"
    else
        env $(grep -v '^#' "$ENV_FILE" | xargs) "$@"
    fi
}

if real && [ "$(id -u)" != 0 ]; then
    echo "install: run as root (sudo deploy/install.sh), or set ROOT=/some/dir for a dry run" >&2
    exit 1
fi
if real && ! grep -qE '^(12|13)' /etc/debian_version 2>/dev/null; then
    note "warning: made for Debian 12 or 13; this is $(cat /etc/debian_version 2>/dev/null || echo 'not Debian')"
fi

# --------------------------------------------------------------------------- 1. Debian packages
PACKAGES="python3 python3-venv postgresql redis-server nginx openssl logrotate"
if real; then
    missing=$(for p in $PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
    if [ -n "$missing" ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
        change "packages: $(echo $missing)"
    fi
else
    skip "apt-get install $PACKAGES"
fi

# --------------------------------------------------------------------------- 2. system user
if real; then
    if ! id "$APP_USER" >/dev/null 2>&1; then
        useradd --system --home-dir "$PREFIX_REAL" --no-create-home --shell /usr/sbin/nologin "$APP_USER"
        change "system user $APP_USER"
    fi
else
    skip "system user $APP_USER (useradd)"
fi

# --------------------------------------------------------------------------- 3. code and virtual environment
while IFS= read -r -d '' file; do
    rel=${file#"$SRC"/}
    put "$file" "$PREFIX/$rel" "$(stat -c %a "$file")"
done < <(find "$SRC/app" "$SRC/migrations" "$SRC/deploy" "$SRC/scripts" -type f \
              ! -name '*.pyc' ! -name '*.mo' ! -path '*/__pycache__/*' -print0
         for f in run.py config.py requirements.txt babel.cfg README.md; do printf '%s\0' "$SRC/$f"; done)
mkdir -p "$INSTANCE/uploads" "$LOG_DIR"

if [ "$VENV" = "$PREFIX/.venv" ]; then
    if [ ! -x "$VENV/bin/python" ]; then
        python3 -m venv "$VENV"
        change "virtual environment $VENV"
    fi
    stamp="$VENV/.requirements.sha256"
    want=$(sha256sum "$PREFIX/requirements.txt" | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$PREFIX/requirements.txt"
        echo "$want" > "$stamp"
        change "pinned requirements installed"
    fi
else
    note "using the existing virtual environment $VENV"
fi
# Compiled catalogues are build output; compiled into a scratch folder, installed when different.
scratch=$(mktemp -d)
cp -r "$PREFIX/app/translations/." "$scratch/"
"$VENV/bin/pybabel" compile -d "$scratch" -f >/dev/null 2>&1
while IFS= read -r -d '' mo; do
    put "$mo" "$PREFIX/app/translations/${mo#"$scratch"/}" 644
done < <(find "$scratch" -name '*.mo' -print0)
rm -rf "$scratch"

# --------------------------------------------------------------------------- 4. settings and keys
if [ ! -f "$ENV_FILE" ]; then
    if real; then
        database="postgresql+psycopg://$APP_USER@/$DB_NAME?host=/var/run/postgresql"
    else
        database="sqlite:///$INSTANCE/pengaduan.db"
    fi
    tmp=$(mktemp)
    # SECRET_KEY and NIK_HMAC_KEY: 48 random bytes (64 characters); NIK_ENCRYPTION_KEY: a Fernet key
    # (32 random bytes, url-safe base64). Made once: a second run keeps them (new keys would lock out
    # every encrypted NIK).
    cat > "$tmp" <<EOF
# Layanan Pengaduan Online — settings (README, "Konfigurasi"). Made by deploy/install.sh on $(date -u +%F).
# Keep a copy of the three keys with the backups: without NIK_ENCRYPTION_KEY the stored NIKs cannot be read.
APP_MODE=production
SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
NIK_ENCRYPTION_KEY=$(python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')
NIK_HMAC_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
DATABASE_URL=$database
INSTANCE_DIR=$INSTANCE
UPLOAD_DIR=$INSTANCE/uploads
RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/$REDIS_DB
PUBLIC_CACHE_URL=redis://127.0.0.1:6379/$REDIS_DB
PROXY_FIX=1
HTTPS=true
PUBLIC_BASE_URL=https://$SERVER_NAME
STATIC_MANIFEST=$PREFIX/static/manifest.json
LOG_FORMAT=json
EOF
    install -D -m 600 "$tmp" "$ENV_FILE"
    rm -f "$tmp"
    change "$ENV_FILE (new keys)"
fi
if [ "$(stat -c %a "$ENV_FILE")" != 600 ]; then
    chmod 600 "$ENV_FILE"
    change "$ENV_FILE mode 0600"
fi

# --------------------------------------------------------------------------- 5. PostgreSQL and Redis
# From / : the postgres user cannot enter the release folder under /root (psql would say so on every run).
as_postgres() { (cd / && runuser -u postgres -- "$@"); }
if real; then
    systemctl enable --now postgresql redis-server >/dev/null 2>&1
    if [ -z "$(as_postgres psql -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$APP_USER'")" ]; then
        as_postgres createuser "$APP_USER"
        change "PostgreSQL role $APP_USER"
    fi
    if [ -z "$(as_postgres psql -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" ]; then
        as_postgres createdb -O "$APP_USER" -E UTF8 "$DB_NAME"
        change "PostgreSQL database $DB_NAME"
    fi
    chown -R "$APP_USER:$APP_USER" "$INSTANCE"
    chown root:"$APP_USER" "$LOG_DIR"
else
    skip "PostgreSQL role and database $DB_NAME (a SQLite file under ROOT instead)"
    skip "Redis (redis-server from Debian, 127.0.0.1:6379, database $REDIS_DB)"
fi

# --------------------------------------------------------------------------- 6. schema, roles, OPDs, static files
cd "$PREFIX"
# STATIC_MANIFEST= : the manifest is made below (a first install has none yet).
flask_app() { as_app env STATIC_MANIFEST= "$VENV/bin/flask" --app run "$@"; }
setup_out=$(flask_app setup)
printf '%s\n' "$setup_out" | sed 's/^/install: flask setup: /'
schema=$(printf '%s\n' "$setup_out" | sed -n 's/^schema: //p')
[ "${schema%% -> *}" = "${schema##* -> }" ] || change "database schema $schema"
collected=$(mktemp -d)
real && chown "$APP_USER" "$collected"
flask_app static collect "$collected" >/dev/null
while IFS= read -r -d '' file; do
    put "$file" "$PREFIX/static/${file#"$collected"/}" 644
done < <(find "$collected" -type f -print0)
rm -rf "$collected"

# --------------------------------------------------------------------------- 7. systemd units
units_changed=$changed
render "$SRC/deploy/pengaduan-web.service" "$SYSTEMD/pengaduan-web.service" 644 \
    "WEB_PORT=$WEB_PORT" "WEB_WORKERS=$WEB_WORKERS"
put "$SRC/deploy/pengaduan-scheduler.service" "$SYSTEMD/pengaduan-scheduler.service" 644
units="pengaduan-web.service pengaduan-scheduler.service"
if [ -f "$SRC/deploy/pengaduan-backup.timer" ] && [ -f "$SRC/deploy/pengaduan-backup.service" ]; then
    put "$SRC/deploy/pengaduan-backup.service" "$SYSTEMD/pengaduan-backup.service" 644
    put "$SRC/deploy/pengaduan-backup.timer" "$SYSTEMD/pengaduan-backup.timer" 644
    units="$units pengaduan-backup.timer"
    # The backup unit's ReadWritePaths= must exist, or every run fails before it starts (226/NAMESPACE).
    backups=$ROOT/var/backups/pengaduan
    if [ ! -d "$backups" ]; then
        mkdir -p "$backups"
        change "$backups"
    fi
    if [ "$(stat -c %a "$backups")" != 700 ]; then
        chmod 700 "$backups"
        change "$backups mode 0700"
    fi
    if real && [ "$(stat -c %U:%G "$backups")" != "$APP_USER:$APP_USER" ]; then
        chown "$APP_USER:$APP_USER" "$backups"
        change "$backups owned by $APP_USER"
    fi
else
    # TODO(backup): deploy/pengaduan-backup.{service,timer} (running `flask --app run backup create`) come
    # with the backup command; until they are in the release, no backup timer is installed.
    note "TODO: no deploy/pengaduan-backup.timer in this release: backups (flask --app run backup create) are not scheduled"
fi
if real; then
    [ "$changed" = "$units_changed" ] || systemctl daemon-reload
    systemctl enable $units >/dev/null 2>&1
    if [ "$changed" -gt 0 ]; then
        systemctl restart pengaduan-web.service pengaduan-scheduler.service
        note "restarted pengaduan-web and pengaduan-scheduler"
    fi
    # Every time (a no-op for what runs): `enable` alone would leave the backup timer waiting for a reboot.
    systemctl start $units
else
    skip "systemctl daemon-reload, enable and (re)start: $units"
fi

# --------------------------------------------------------------------------- 8. TLS and nginx
TLS_CERTIFICATE=${TLS_CERTIFICATE:-}
TLS_CERTIFICATE_KEY=${TLS_CERTIFICATE_KEY:-}
if [ -z "$TLS_CERTIFICATE" ] && [ -z "$TLS_CERTIFICATE_KEY" ]; then
    TLS_CERTIFICATE=/etc/pengaduan/tls/cert.pem
    TLS_CERTIFICATE_KEY=/etc/pengaduan/tls/key.pem
    if [ ! -f "$ROOT$TLS_CERTIFICATE" ]; then
        mkdir -p "$ETC/tls"
        openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=$SERVER_NAME" \
            -addext "subjectAltName=DNS:$SERVER_NAME" -keyout "$ROOT$TLS_CERTIFICATE_KEY" \
            -out "$ROOT$TLS_CERTIFICATE" 2>/dev/null
        chmod 600 "$ROOT$TLS_CERTIFICATE_KEY"
        change "self-signed certificate $TLS_CERTIFICATE (replace it with a real one: README, Produksi)"
    fi
fi
MAX_BODY=$(as_app "$VENV/bin/python" -c 'from config import build_config; print(build_config()["MAX_CONTENT_LENGTH"])')
render "$SRC/deploy/nginx/pengaduan.conf.in" "$NGINX_SITE" 644 \
    "SERVER_NAME=$SERVER_NAME" "HTTP_PORT=80" "HTTPS_PORT=443" "HTTPS_PORT_SUFFIX=" \
    "TLS_CERTIFICATE=$ROOT$TLS_CERTIFICATE" "TLS_CERTIFICATE_KEY=$ROOT$TLS_CERTIFICATE_KEY" \
    "UPSTREAM_SERVERS=server 127.0.0.1:$WEB_PORT;" "MAX_BODY_BYTES=$MAX_BODY" \
    "STATIC_ROOT=$PREFIX/static" "ERROR_PAGES=$PREFIX/deploy/nginx/errors" \
    "ACCESS_LOG=$LOG_DIR/access.log" \
    "REQUEST_RATE=20r/s" "REQUEST_BURST=60" "LOGIN_RATE=30r/m" "LOGIN_BURST=10"
if [ "$(readlink "$NGINX_LINK" 2>/dev/null)" != "$ROOT/etc/nginx/sites-available/pengaduan" ]; then
    mkdir -p "$(dirname "$NGINX_LINK")"
    ln -sfn "$ROOT/etc/nginx/sites-available/pengaduan" "$NGINX_LINK"
    change "$NGINX_LINK"
fi
if [ -L "$ROOT/etc/nginx/sites-enabled/default" ]; then
    rm -f "$ROOT/etc/nginx/sites-enabled/default"  # Debian's welcome page would answer port 80 first
    change "removed nginx's default site"
fi
if real; then
    nginx -t -q
    systemctl enable nginx >/dev/null 2>&1
    systemctl reload-or-restart nginx
else
    skip "nginx -t and systemctl reload nginx"
fi

# --------------------------------------------------------------------------- 9. log rotation
render "$SRC/deploy/logrotate.in" "$LOGROTATE" 644 "LOG_DIR=$LOG_DIR"

# --------------------------------------------------------------------------- summary
if [ "$changed" = 0 ]; then
    note "nothing changed: the installation is as this release wants it"
else
    note "$changed change(s)"
fi
if [ "${#skipped[@]}" -gt 0 ]; then
    note "dry run under $ROOT: ${#skipped[@]} system step(s) skipped (listed above)"
fi
if real; then
    note "done: https://$SERVER_NAME/ (health: curl -s http://127.0.0.1:$WEB_PORT/health)"
    note "first Admin Sistem account: cd $PREFIX_REAL && runuser -u $APP_USER -- env \$(grep -v '^#' $ENV_FILE | xargs) $VENV/bin/flask --app run staff create --username admin --email …"
fi
