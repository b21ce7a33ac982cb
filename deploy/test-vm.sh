#!/bin/bash
# deploy/test-vm.sh — install the product for real on a booted Debian 12 (systemd as PID 1) in a
# systemd-nspawn container with its own network, the way a regency IT officer follows the README's
# "Produksi" section, and check it from the host over HTTPS.
#
#   sudo deploy/test-vm.sh            # everything: base system (cached), boot, install ×2, checks, upgrade
#   sudo VM_KEEP=1 deploy/test-vm.sh  # leave the container running afterwards (how to enter it is printed)
#
# Needs: root, a Debian mirror (debootstrap; apt inside the container) and PyPI (pip inside the container,
# as on a real server); installs debootstrap, systemd-container and slirp4netns from Debian when missing.
# The container has a network namespace of its own (slirp4netns: user-mode NAT, the host's loopback not
# reachable), so its PostgreSQL, Redis, nginx and ports 80/443 are its own; the host's are never touched.
# Host loopback ports VM_HTTP_PORT=9280 and VM_HTTPS_PORT=9243 are forwarded to the container's 80 and 443.
# Measured on 2 cores shared with other work (load 12-17): 27 minutes in all, of which debootstrap 4 (once,
# then cached in VM_WORK), the first install.sh 11-16, a second run 1.5, the upgrade 2; an idle machine is faster.
# Not part of .ci/run (too slow and privileged): run it by hand before a release.
#
# Why not QEMU/KVM: on a host that is itself a VM with nested paravirtualisation (no vmx/svm in
# /proc/cpuinfo) a stock Debian kernel under `qemu -enable-kvm` hangs at boot; nspawn needs no
# hardware virtualisation and still runs the real systemd as PID 1 of the container.
#
# Settings: VM_WORK=/var/tmp/pengaduan-vm (base system, the run's root, logs), MIRROR, SUITE=bookworm.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${VM_WORK:-/var/tmp/pengaduan-vm}
SUITE=${SUITE:-bookworm}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
HTTP_PORT=${VM_HTTP_PORT:-9280}
HTTPS_PORT=${VM_HTTPS_PORT:-9243}
NAME=pengaduan.lumajangkab.test
BASE=$WORK/base-$SUITE
RUN=$WORK/root
T0=$(date +%s)

say() { printf '\n=== [%4ss] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
fail() { printf '\nFAIL: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "run as root (debootstrap and systemd-nspawn need it)"
mkdir -p "$WORK"

need=""
command -v debootstrap >/dev/null || need="$need debootstrap"
command -v systemd-nspawn >/dev/null || need="$need systemd-container"
command -v slirp4netns >/dev/null || need="$need slirp4netns"
if [ -n "$need" ]; then
    say "installing on the host:$need"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
fi

# --------------------------------------------------------------------------- 1. base system (cached)
# A minimal Debian server: systemd, no sudo, no Python, no database. The project's own packages come from
# install.sh's apt-get, as on a fresh server.
if [ ! -x "$BASE/usr/bin/systemctl" ]; then
    say "debootstrap $SUITE into $BASE (once; reused by later runs)"
    rm -rf "$BASE.tmp"
    debootstrap --variant=minbase --include=systemd-sysv,dbus,ca-certificates,curl,iproute2,procps,less \
        "$SUITE" "$BASE.tmp" "$MIRROR" > "$WORK/debootstrap.log" 2>&1 \
        || { tail -20 "$WORK/debootstrap.log"; fail "debootstrap"; }
    echo "pengaduan" > "$BASE.tmp/etc/hostname"
    printf '127.0.0.1 localhost\n127.0.1.1 %s pengaduan\n' "$NAME" > "$BASE.tmp/etc/hosts"
    printf 'deb %s %s main\ndeb %s %s-updates main\ndeb http://deb.debian.org/debian-security %s-security main\n' \
        "$MIRROR" "$SUITE" "$MIRROR" "$SUITE" "$SUITE" > "$BASE.tmp/etc/apt/sources.list"
    echo "nameserver 10.0.2.3" > "$BASE.tmp/etc/resolv.conf"   # slirp4netns' DNS
    ln -sf /usr/share/zoneinfo/Asia/Jakarta "$BASE.tmp/etc/localtime"
    mv "$BASE.tmp" "$BASE"
fi

# --------------------------------------------------------------------------- 2. boot a fresh container
LEADER=""
vm() {  # run a shell command inside the container (all its namespaces), as root, with a clean environment
    nsenter -t "$LEADER" -m -u -i -n -p -- env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LANG=C.UTF-8 TERM=dumb /bin/bash -c "$*"
}
stop_vm() {
    for f in slirp nspawn; do
        if [ -f "$WORK/$f.pid" ] && kill -0 "$(cat "$WORK/$f.pid")" 2>/dev/null; then
            kill "$(cat "$WORK/$f.pid")" 2>/dev/null || true   # nspawn: SIGTERM = orderly poweroff
            for _ in $(seq 60); do kill -0 "$(cat "$WORK/$f.pid")" 2>/dev/null || break; sleep 1; done
        fi
        rm -f "$WORK/$f.pid"
    done
}
stop_vm
say "fresh root $RUN (a copy of the base system)"
rm -rf "$RUN"
cp -a --reflink=auto "$BASE" "$RUN"
# The host's own certificate authorities (an egress proxy that re-signs TLS, where there is one) so that apt
# and pip in the container reach the mirrors as the host does; a real server needs none of this.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$RUN/usr/local/share/ca-certificates/"
fi
say "booting Debian $SUITE with systemd-nspawn (private network; http 127.0.0.1:$HTTP_PORT, https 127.0.0.1:$HTTPS_PORT)"
# Debian's .deb files are cached on the host between runs (the same packages, fetched once).
mkdir -p "$WORK/cache/apt"
setsid systemd-nspawn --boot --directory="$RUN" --machine=pengaduan --private-network --register=no \
    --keep-unit --console=pipe --bind="$WORK/cache/apt:/var/cache/apt/archives" </dev/null > "$WORK/console.log" 2>&1 &
echo $! > "$WORK/nspawn.pid"
[ "${VM_KEEP:-0}" = 1 ] || trap stop_vm EXIT
for i in $(seq 60); do
    LEADER=$(pgrep -P "$(cat "$WORK/nspawn.pid")" -x systemd || true)
    [ -n "$LEADER" ] && break; sleep 1
    [ "$i" = 60 ] && { tail -30 "$WORK/console.log"; fail "the container did not start"; }
done
setsid slirp4netns --configure --mtu=65520 --disable-host-loopback --api-socket "$WORK/slirp.sock" \
    "$LEADER" tap0 </dev/null > "$WORK/slirp.log" 2>&1 &
echo $! > "$WORK/slirp.pid"
for _ in $(seq 30); do [ -S "$WORK/slirp.sock" ] && break; sleep 1; done
python3 - "$WORK/slirp.sock" "$HTTP_PORT" "$HTTPS_PORT" <<'PY'
import json, socket, sys
for host_port, guest_port in ((int(sys.argv[2]), 80), (int(sys.argv[3]), 443)):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
    s.sendall(json.dumps({"execute": "add_hostfwd", "arguments": {"proto": "tcp", "host_addr": "127.0.0.1",
                          "host_port": host_port, "guest_port": guest_port}}).encode())
    answer = json.loads(s.recv(4096)); s.close()
    assert "error" not in answer, answer
PY
state=$(vm 'systemctl is-system-running --wait' || true)
vm 'update-ca-certificates >/dev/null 2>&1 || true'
say "booted: Debian $(vm 'cat /etc/debian_version'), PID 1 $(vm 'ps -p 1 -o comm='), system $state"

# --------------------------------------------------------------------------- 3. the release, as README step 2
REL=pengaduan-$(date +%Y.%m)
say "copying the release (the checkout's tracked files as they are) to /root/$REL"
(cd "$SRC" && git ls-files -z | xargs -0 tar --no-recursion -c -f - --transform "s,^,$REL/,") \
    | vm "rm -rf /root/$REL && tar -x -C /root"

# What must not change on a second run: every installed file (checksum, mode, owner), the units and
# services' states and main PIDs (a restart would show), the schema revision and the installed packages.
vm 'cat > /root/state.sh' <<'STATE'
#!/bin/bash
set -u
find /etc/pengaduan /etc/systemd/system /etc/nginx /etc/logrotate.d/pengaduan /opt/pengaduan \
     \( -path /opt/pengaduan/.venv/lib -o -name __pycache__ -o -path /opt/pengaduan/instance/uploads \) -prune \
     -o \( -type f -o -type l \) -print0 | sort -z \
  | xargs -0 stat -c '%n %a %U:%G %s' | while read -r name rest; do
        if [ -L "$name" ]; then echo "$name $rest -> $(readlink "$name")"
        elif [ "$name" = /opt/pengaduan/instance/scheduler.lock ]; then echo "$name (runtime)"
        else echo "$name $rest $(sha256sum < "$name" | cut -c1-16)"; fi
    done
for u in pengaduan-web.service pengaduan-scheduler.service pengaduan-backup.timer nginx.service \
         postgresql@15-main.service redis-server.service; do
    echo "$u $(systemctl show -p UnitFileState -p ActiveState -p SubState -p MainPID -p NRestarts --value "$u" | tr '\n' ' ')"
done
echo "schema $(runuser -u postgres -- psql -tAc 'SELECT version_num FROM alembic_version' pengaduan 2>&1)"
echo "roles $(runuser -u postgres -- psql -tAc "SELECT rolname FROM pg_roles WHERE rolname='pengaduan'")"
echo "user $(id pengaduan 2>&1)"
/opt/pengaduan/.venv/bin/pip freeze 2>/dev/null | sha256sum | sed 's/^/pip-freeze /'
STATE

# --------------------------------------------------------------------------- 4. install, as README step 3
install_run() {  # install_run LABEL RELEASE-FOLDER
    say "deploy/install.sh ($1) from /root/$2"
    local t=$(date +%s)
    vm "cd /root/$2 && SERVER_NAME=$NAME deploy/install.sh" > "$WORK/install-$1.log" 2>&1 \
        || { tail -40 "$WORK/install-$1.log"; fail "install.sh ($1) failed"; }
    # The code and static files are one line each in the log; the summary keeps the rest.
    echo "    $(grep -c 'changed: /opt/pengaduan/' "$WORK/install-$1.log" || true) file(s) under /opt/pengaduan written"
    grep -v 'changed: /opt/pengaduan/' "$WORK/install-$1.log" | sed 's/^/    /'
    say "install.sh ($1) took $(( $(date +%s) - t )) s"
}
install_run first "$REL"
vm 'bash /root/state.sh' > "$WORK/state-first.txt"

# --------------------------------------------------------------------------- 5. README steps 5-7
say "README step 6: the first Admin Sistem account (the README's command, password given as an option)"
vm "cd /opt/pengaduan && runuser -u pengaduan -- env \$(grep -v '^#' /etc/pengaduan/env | xargs) \
    .venv/bin/flask --app run staff create --username admin --email admin@lumajangkab.go.id \
    --password 'Uji-Server-2026!aman'" | sed 's/^/    /'

# curl from the HOST through the forwarded ports, with the public name resolved to them.
CURL=(curl -sS --max-time 30 --resolve "$NAME:$HTTPS_PORT:127.0.0.1" --resolve "$NAME:$HTTP_PORT:127.0.0.1")
check_product() {  # check_product LABEL: the portal, redirect, HSTS, /health, services, from outside
    local label=$1 h="$WORK/headers-$1.txt" b="$WORK/body-$1.html"
    say "checks ($label): over HTTPS from the host"
    # After a (re)start the workers load the app first (half a minute on a busy machine): wait for them.
    local code i
    for i in $(seq 60); do
        vm 'curl -sf -o /dev/null --max-time 5 http://127.0.0.1:8080/health' && break
        sleep 3; [ "$i" = 60 ] && fail "pengaduan-web did not answer on 127.0.0.1:8080 within 3 minutes"
    done
    code=$("${CURL[@]}" -k -D "$h" -o "$b" -w '%{http_code}' "https://$NAME:$HTTPS_PORT/")
    sed 's/^/    /' "$h" | grep -iE '^    (HTTP|strict-transport|content-type|x-request-id|cache-control|content-security)' || true
    [ "$code" = 200 ] || fail "https://$NAME/ answered $code"
    grep -q '<html lang="id"' "$b" || fail "the portal is not the Indonesian page"
    grep -qi 'pengaduan' "$b" || fail "the portal does not say Pengaduan"
    echo "    title: $(grep -o '<title>[^<]*' "$b" | head -1 | sed 's/<title>//')"
    grep -qi '^strict-transport-security: max-age=31536000' "$h" || fail "no HSTS header"
    local redirect
    redirect=$("${CURL[@]}" -o /dev/null -w '%{http_code} %{redirect_url}' "http://$NAME:$HTTP_PORT/lacak?x=1")
    echo "    http://$NAME/lacak?x=1 -> $redirect"
    [ "$redirect" = "301 https://$NAME/lacak?x=1" ] || fail "HTTP does not redirect to HTTPS"
    local css
    css=$(grep -oE '/static/[^"]+\.[0-9a-f]{12}\.css' "$b" | head -1)
    [ -n "$css" ] || fail "no fingerprinted stylesheet in the page"
    "${CURL[@]}" -k -o /dev/null -D - "https://$NAME:$HTTPS_PORT$css" | grep -iE '^(HTTP|cache-control)' | sed "s|^|    $css: |"
    # /health through nginx; the scheduler writes its first heartbeat within a minute of starting.
    local health ok=""
    for _ in $(seq 24); do
        health=$("${CURL[@]}" -k "https://$NAME:$HTTPS_PORT/health" || true)
        if python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d["status"]=="ok" else 1)' "$health" 2>/dev/null; then
            ok=1; break
        fi
        sleep 5
    done
    echo "    /health: $health"
    [ -n "$ok" ] || fail "/health is not ok"
    python3 - "$health" <<'PY' || fail "a /health check is missing or not ok"
import json, sys
d = json.loads(sys.argv[1])
checks = d["checks"]
for name in ("database", "redis", "scheduler", "outbox", "disk"):
    assert name in checks and checks[name]["ok"], (name, checks.get(name))
age = checks["scheduler"]["heartbeat_age_seconds"]
assert age is not None and age < 120, age
assert d["dialect"] == "postgresql", d
print(f"    health: database postgresql, redis, scheduler heartbeat {age:.0f} s old, outbox, disk: all ok")
PY
    vm 'systemctl --no-pager --lines=0 status pengaduan-web pengaduan-scheduler pengaduan-backup.timer nginx' \
        | grep -E '^(●|○)|Active:|Trigger:' | sed 's/^/    /' || true   # status exits 3 for a stopped unit: checked below
    for u in pengaduan-web pengaduan-scheduler pengaduan-backup.timer nginx postgresql redis-server; do
        [ "$(vm "systemctl is-active $u")" = active ] || fail "$u is not active"
        [ "$(vm "systemctl is-enabled $u")" = enabled ] || fail "$u is not enabled (would not start at boot)"
    done
    local line
    line=$(vm 'journalctl -u pengaduan-web -o cat -n 200 --no-pager' | grep '"request_id"' | tail -1)
    echo "    journal (pengaduan-web): ${line:0:220}"
    [ -n "$line" ] || fail "no JSON line with a request_id in the web journal"
}
check_product first

say "backup: systemctl start pengaduan-backup.service"
t=$(date +%s)
vm 'systemctl start pengaduan-backup.service' || { vm 'journalctl -u pengaduan-backup -o cat -n 30 --no-pager'; fail "the backup service failed"; }
echo "    took $(( $(date +%s) - t )) s: $(vm 'systemctl show -p Result --value pengaduan-backup.service')"
vm 'journalctl -u pengaduan-backup -o cat -n 5 --no-pager' | sed 's/^/    /'
newest=$(vm 'ls -1d /var/backups/pengaduan/*/ | sort | tail -1')
[ -n "$newest" ] || fail "no backup folder"
vm "ls -l $newest" | sed 's/^/    /'
vm "cd /opt/pengaduan && runuser -u pengaduan -- env \$(grep -v '^#' /etc/pengaduan/env | xargs) \
    .venv/bin/flask --app run backup verify $newest" | sed 's/^/    verify: /' || fail "flask backup verify"
vm 'systemctl list-timers --no-pager pengaduan-backup.timer' | sed 's/^/    /'

# --------------------------------------------------------------------------- 6. second run: nothing changes
vm 'bash /root/state.sh' > "$WORK/state-before-second.txt"
install_run second "$REL"
vm 'bash /root/state.sh' > "$WORK/state-second.txt"
grep -q 'nothing changed' "$WORK/install-second.log" || fail "the second run changed something"
if ! diff -u "$WORK/state-before-second.txt" "$WORK/state-second.txt"; then
    fail "the second run changed files, units, service states or PIDs (diff above)"
fi
echo "    $(wc -l < "$WORK/state-second.txt") lines of state (files with checksum/mode/owner, units with state and PID, schema, packages): identical"
grep -E '^(pengaduan|nginx|postgresql|redis|schema)' "$WORK/state-second.txt" | sed 's/^/    /'

# --------------------------------------------------------------------------- 7. upgrade: README step 8
# A "new release": the same code plus a trivial change and one new migration (a comment on a table) on top
# of this release's head, unpacked next to the old one; install.sh run from it.
UPG=$REL-upgrade
say "upgrade: a new release /root/$UPG (one new migration, one changed file)"
head=$(vm "cd /root/$REL && /opt/pengaduan/.venv/bin/python -c \"from alembic.script import ScriptDirectory; print(ScriptDirectory('migrations').get_heads()[0])\"")
vm "rm -rf /root/$UPG && cp -a /root/$REL /root/$UPG && cd /root/$UPG \
    && echo '# upgrade test of deploy/test-vm.sh' >> config.py \
    && cat > migrations/versions/9999_vm_upgrade.py" <<PY
"""A trivial schema change on top of the release's head (deploy/test-vm.sh's upgrade).

Revision ID: 9999_vm_upgrade
Revises: $head
"""
from alembic import op

revision = "9999_vm_upgrade"
down_revision = "$head"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("COMMENT ON TABLE alembic_version IS 'upgrade test'")


def downgrade():
    op.execute("COMMENT ON TABLE alembic_version IS NULL")
PY
before=$(vm 'systemctl show -p MainPID --value pengaduan-web; systemctl show -p MainPID --value pengaduan-scheduler' | tr '\n' ' ')
install_run upgrade "$UPG"
grep -q "schema: $head -> 9999_vm_upgrade" "$WORK/install-upgrade.log" || fail "the upgrade did not apply the new migration"
[ "$(vm "runuser -u postgres -- psql -tAc 'SELECT version_num FROM alembic_version' pengaduan")" = 9999_vm_upgrade ] \
    || fail "the database is not at the new revision"
after=$(vm 'systemctl show -p MainPID --value pengaduan-web; systemctl show -p MainPID --value pengaduan-scheduler' | tr '\n' ' ')
echo "    main PIDs web/scheduler: before $before, after $after"
[ "$before" != "$after" ] || fail "the services were not restarted"
vm 'grep -c "upgrade test of deploy/test-vm.sh" /opt/pengaduan/config.py' >/dev/null || fail "the new code is not in /opt/pengaduan"
[ "$(vm "runuser -u postgres -- psql -tAc \"SELECT count(*) FROM ab_user WHERE username = 'admin'\" pengaduan")" = 1 ] \
    || fail "the account made before the upgrade is gone"
echo "    the account made before the upgrade is still there"
check_product upgrade
vm 'journalctl -u pengaduan-web -u pengaduan-scheduler -p warning --since "-5min" -o cat --no-pager' > "$WORK/warnings-upgrade.txt" || true
echo "    warnings or worse in the journal of web/scheduler in the last 5 minutes: $(wc -l < "$WORK/warnings-upgrade.txt")"
install_run after-upgrade "$UPG"
grep -q 'nothing changed' "$WORK/install-after-upgrade.log" || fail "a second run of the new release changed something"

say "PASS: installed, re-run without change, backed up, upgraded; total $(( $(date +%s) - T0 )) s"
if [ "${VM_KEEP:-0}" = 1 ]; then
    echo "the container is still running: nsenter -t $LEADER -m -u -i -n -p bash   (stop: kill $(cat "$WORK/nspawn.pid") $(cat "$WORK/slirp.pid"))"
    echo "portal: curl -k --resolve $NAME:$HTTPS_PORT:127.0.0.1 https://$NAME:$HTTPS_PORT/"
fi
