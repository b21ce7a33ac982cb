"""The production stack on one machine, for `make test-deploy` (issue 19): Debian's nginx with the project's
site (deploy/nginx/pengaduan.conf.in, rendered by deploy/render.py) and a self-signed certificate, on high
ports, as the current user with a temporary prefix, in front of TWO gunicorn nodes (one upstream), one
database (a fresh PostgreSQL database when TEST_DATABASE_URL is set, else one SQLite file both nodes
share), one Redis (127.0.0.1:6379, database DEPLOY_REDIS_DB, flushed) and two schedulers.

The app runs as in production: APP_MODE=production with generated keys, PROXY_FIX=1, HTTPS=true, JSON logs,
fingerprinted static files (`flask static collect`)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
REDIS_DB = int(os.environ.get("DEPLOY_REDIS_DB", "13"))
PASSWORD = "uji-coba-kata-sandi-2026"
MAX_CONTENT_LENGTH = 128 * 1024  # small, so the upload checks move little data
UPLOAD_MAX_BYTES = 64 * 1024
AUTH_LIMIT = 5  # sign-in attempts per address in 5 minutes (the app's limit, counted in Redis)


def free_ports(n: int) -> list[int]:
    """n different free ports (all held open until every one is chosen)."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def wait_until(condition, timeout: float, what: str, process: subprocess.Popen | None = None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            break
        try:
            if condition():
                return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(0.2)
    tail = log.read_text()[-3000:] if log is not None and log.exists() else ""
    raise AssertionError(f"{what} did not come up in {timeout:.0f} s\n{tail}")


@dataclass
class Stack:
    base: Path
    env: dict[str, str]
    database_url: str
    http_port: int
    https_port: int
    node_ports: list[int]
    certificate: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)
    drop_database: object = None

    @property
    def https(self) -> str:
        return f"https://localhost:{self.https_port}"

    @property
    def access_log(self) -> Path:
        return self.base / "nginx" / "access.log"

    def access_entries(self) -> list[dict]:
        return [json.loads(line) for line in self.access_log.read_text().splitlines() if line.strip()]

    def flask(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([str(BIN / "flask"), "--app", "run", *args], cwd=ROOT, env=self.env,
                                capture_output=True, text=True, timeout=180)
        if check and result.returncode != 0:
            raise AssertionError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        log = self.base / f"{name}.log"
        handle = log.open("ab")
        process = subprocess.Popen(argv, cwd=ROOT, env=env or self.env, stdout=handle, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.processes[name], self.logs[name] = process, log
        return process

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, sig)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)

    def close(self) -> None:
        for name in list(self.processes):
            self.stop(name)
        if self.drop_database:
            self.drop_database()


def _database(base: Path) -> tuple[str, object]:
    """A SQLite file of its own, or a fresh PostgreSQL database made the way conftest makes the suite's."""
    if not os.environ.get("TEST_DATABASE_URL"):
        return f"sqlite:///{base / 'pengaduan.db'}", None
    from tests.conftest import _database_url

    return _database_url()


def _certificate(base: Path) -> tuple[Path, Path]:
    cert, key = base / "tls" / "cert.pem", base / "tls" / "key.pem"
    cert.parent.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    return cert, key


def _nginx_main(stack: Stack, site: Path) -> Path:
    prefix = stack.base / "nginx"
    temp = prefix / "temp"
    temp.mkdir(parents=True, exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""  # as root, workers would otherwise run as nobody
    main = prefix / "nginx.conf"
    main.write_text(f"""{user}worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {site};
}}
""")
    return main


def build(base: Path) -> Stack:
    if not os.path.exists(NGINX):
        raise AssertionError("nginx is not installed: `make test-deploy` installs Debian's nginx (it must run here)")
    from cryptography.fernet import Fernet

    database_url, drop = _database(base)
    cert, key = _certificate(base)
    http_port, https_port, *node_ports = free_ports(4)
    instance = base / "instance"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "TEST_"))}
    env.update({
        "APP_MODE": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "NIK_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "NIK_HMAC_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": database_url,
        "INSTANCE_DIR": str(instance),
        "UPLOAD_DIR": str(instance / "uploads"),
        "SCHEDULER_LOCK_FILE": str(instance / "scheduler.lock"),
        "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "PROXY_FIX": "1",
        "HTTPS": "true",
        "PUBLIC_BASE_URL": f"https://localhost:{https_port}",
        "MAX_CONTENT_LENGTH": str(MAX_CONTENT_LENGTH),
        "UPLOAD_MAX_BYTES": str(UPLOAD_MAX_BYTES),
        "AUTH_RATE_LIMIT": f"{AUTH_LIMIT} per 5 minutes",
        "LOGIN_MAX_FAILURES": "100",  # the account lockout has its own tests; here the rate limit is checked
        "HEALTH_SCHEDULER_MAX_SECONDS": "30",
        "HEALTH_DISK_MIN_MB": "1",
        "LOG_FORMAT": "json",
    })
    stack = Stack(base, env, database_url, http_port, https_port, node_ports, cert, drop_database=drop)
    try:
        import redis

        redis.Redis.from_url(env["RATELIMIT_STORAGE_URI"]).flushdb()
        # The schema and the set-up, as install.sh does it; then one staff account.
        setup_env = dict(env, STATIC_MANIFEST="")
        stack.env = setup_env
        stack.flask("setup")
        stack.flask("staff", "create", "--username", "admin", "--email", "admin@lumajangkab.go.id",
                    "--password", PASSWORD)
        stack.flask("static", "collect", str(base / "static"))
        env["STATIC_MANIFEST"] = str(base / "static" / "manifest.json")
        stack.env = env

        for i, port in enumerate(node_ports):
            stack.start(f"web{i + 1}", [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1",
                                        "--threads", "4", "--graceful-timeout", "5", "run:app"])
        site = base / "nginx" / "site.conf"
        subprocess.run([sys.executable, str(ROOT / "deploy" / "render.py"),
                        str(ROOT / "deploy" / "nginx" / "pengaduan.conf.in"), str(site),
                        "SERVER_NAME=localhost", f"HTTP_PORT={http_port}", f"HTTPS_PORT={https_port}",
                        f"HTTPS_PORT_SUFFIX=:{https_port}", f"TLS_CERTIFICATE={cert}", f"TLS_CERTIFICATE_KEY={key}",
                        "UPSTREAM_SERVERS=" + " ".join(f"server 127.0.0.1:{p};" for p in node_ports),
                        f"MAX_BODY_BYTES={MAX_CONTENT_LENGTH}", f"STATIC_ROOT={base / 'static'}",
                        f"ERROR_PAGES={ROOT / 'deploy' / 'nginx' / 'errors'}",
                        f"ACCESS_LOG={base / 'nginx' / 'access.log'}",
                        # nginx's own limits well above the app's, so the app's (Redis) limit is what is tested
                        "REQUEST_RATE=50r/s", "REQUEST_BURST=100", "LOGIN_RATE=50r/s", "LOGIN_BURST=50"],
                       check=True)
        main = _nginx_main(stack, site)
        checked = subprocess.run([NGINX, "-t", "-p", str(base / "nginx"), "-c", str(main)],
                                 capture_output=True, text=True)
        if checked.returncode != 0:
            raise AssertionError(f"nginx -t refused the project's configuration:\n{checked.stderr}")
        stack.start("nginx", [NGINX, "-p", str(base / "nginx"), "-c", str(main)])

        import requests

        probe = requests.Session()
        probe.trust_env = False  # REQUESTS_CA_BUNDLE would replace the certificate given below
        for i, port in enumerate(node_ports):
            wait_until(lambda: probe.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code in {200, 503},
                       90, f"gunicorn node {i + 1}", stack.processes[f"web{i + 1}"], stack.logs[f"web{i + 1}"])
        wait_until(lambda: probe.get(f"{stack.https}/health", verify=str(cert), timeout=2).status_code
                   in {200, 503}, 20, "nginx", stack.processes["nginx"], base / "nginx" / "error.log")
        return stack
    except BaseException:
        stack.close()
        raise
