"""deploy/install.sh in dry mode (ROOT=a clean folder), twice: what needs a real Debian system as root
(apt-get, the system user, PostgreSQL, Redis, systemctl, nginx reload) is skipped and said so; everything
else is really written under ROOT (code, settings with generated keys, SQLite database through `flask setup`,
fingerprinted static files, systemd units, nginx site, logrotate); the second run changes nothing."""

from __future__ import annotations

import hashlib
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.stack import NGINX, ROOT as REPO, _nginx_main

pytestmark = pytest.mark.deploy
SYSTEM_STEPS = ["apt-get install", "system user pengaduan", "PostgreSQL role and database", "Redis",
                "systemctl daemon-reload", "nginx -t and systemctl reload nginx"]
# Written by the app at run time, not by install.sh: the SQLite database (every `flask setup` commits)
# and the scheduler's lock file. The database is checked by its schema instead.
RUNTIME = {"opt/pengaduan/instance/pengaduan.db", "opt/pengaduan/instance/scheduler.lock"}


def _head() -> str:
    """The one head of the migrations in this release (every branch merged)."""
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory(str(Path(__file__).resolve().parents[2] / "migrations")).get_heads()
    assert len(heads) == 1, heads
    return heads[0]


def _install(root: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "FLASK_", "APP_"))}
    env.update(ROOT=str(root), VENV=str(Path(sys.executable).parent.parent), SERVER_NAME="pengaduan.example.go.id")
    result = subprocess.run(["bash", str(REPO / "deploy" / "install.sh")], env=env, capture_output=True,
                            text=True, timeout=240)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def _tree(root: Path) -> dict[str, tuple[str, int]]:
    tree = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel in RUNTIME or path.is_dir() or "/__pycache__/" in rel:  # bytecode: Python's, at run time
            continue
        if path.is_symlink():
            tree[rel] = ("-> " + os.readlink(path), 0)
        else:
            tree[rel] = (hashlib.sha256(path.read_bytes()).hexdigest(), stat.S_IMODE(path.stat().st_mode))
    return tree


def _settings(root: Path) -> dict[str, str]:
    lines = (root / "etc/pengaduan/env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    root = tmp_path_factory.mktemp("root")
    first = _install(root)
    tree = _tree(root)
    settings = _settings(root)
    second = _install(root)
    return root, first, second, tree, settings


def test_the_dry_run_says_which_system_steps_it_skipped(installed):
    root, first, second, *_ = installed
    for run in (first, second):
        skipped = [line for line in run.stdout.splitlines() if "SKIPPED (ROOT=" in line]
        for step in SYSTEM_STEPS:
            assert any(step in line for line in skipped), (step, skipped)
        assert f"{len(SYSTEM_STEPS)} system step(s) skipped" in run.stdout


def test_the_first_run_writes_settings_with_generated_keys_of_the_right_lengths(installed):
    from cryptography.fernet import Fernet

    root, first, _, _, settings = installed
    env_file = root / "etc/pengaduan/env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert len(settings["SECRET_KEY"].encode()) >= 32 and len(settings["NIK_HMAC_KEY"].encode()) >= 32
    assert settings["SECRET_KEY"] != settings["NIK_HMAC_KEY"]
    Fernet(settings["NIK_ENCRYPTION_KEY"].encode())  # a valid Fernet key (32 bytes)
    assert settings["APP_MODE"] == "production" and settings["PROXY_FIX"] == "1" and settings["HTTPS"] == "true"
    # The settings start the app: build_config accepts them (production checks on keys included).
    check = subprocess.run([sys.executable, "-c", "from config import build_config; c = build_config(); "
                            "print(c['MAX_CONTENT_LENGTH'], c['STATIC_MANIFEST'])"],
                           cwd=root / "opt/pengaduan", env={**settings, "PATH": os.environ["PATH"], "PYTHONDONTWRITEBYTECODE": "1"},
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert "install: changed: " in first.stdout and "self-signed certificate" in first.stdout


def test_flask_setup_migrated_the_database_to_the_head(installed):
    import sqlalchemy as sa

    root, first, *_ = installed
    assert "schema: kosong -> " in first.stdout
    engine = sa.create_engine(f"sqlite:///{root / 'opt/pengaduan/instance/pengaduan.db'}")
    with engine.connect() as conn:
        versions = {r[0] for r in conn.execute(sa.text("SELECT version_num FROM alembic_version"))}
        opds = conn.execute(sa.text("SELECT count(*) FROM opd")).scalar()
    engine.dispose()
    assert versions == {_head()} and opds > 10


def test_units_site_and_logrotate_are_filled_in(installed, tmp_path):
    root, *_ = installed
    web = (root / "etc/systemd/system/pengaduan-web.service").read_text()
    assert "--bind 127.0.0.1:8080 --workers 4" in web and "@" not in web.replace("@WEB", "")
    site = (root / "etc/nginx/sites-available/pengaduan").read_text()
    assert not re.search(r"@[A-Z_]+@", site)
    assert "server_name pengaduan.example.go.id;" in site and "client_max_body_size 20971520;" in site
    assert os.readlink(root / "etc/nginx/sites-enabled/pengaduan") == str(root / "etc/nginx/sites-available/pengaduan")
    assert (root / "opt/pengaduan/static/manifest.json").is_file()
    assert (root / "etc/logrotate.d/pengaduan").read_text().startswith("# /etc/logrotate.d/pengaduan")
    # The rendered site is accepted by nginx (ports changed to high ones: this test is not root's port 80).
    test_site = tmp_path / "nginx-check" / "site.conf"
    test_site.parent.mkdir()
    site = site.replace(str(root / "var/log/pengaduan"), str(tmp_path))  # nginx -t opens the log file
    test_site.write_text(site.replace("listen 80;", "listen 127.0.0.1:18080;").replace("listen 443 ssl;",
                                                                                     "listen 127.0.0.1:18443 ssl;"))

    class Base:  # what _nginx_main needs of a stack
        base = tmp_path / "nginx-check"

    main = _nginx_main(Base, test_site)
    checked = subprocess.run([NGINX, "-t", "-p", str(Base.base / "nginx"), "-c", str(main)], capture_output=True,
                             text=True)
    assert checked.returncode == 0, checked.stderr


def test_the_second_run_changes_nothing(installed):
    root, _, second, tree, settings = installed
    assert "install: changed: " not in second.stdout, [l for l in second.stdout.splitlines() if "changed: " in l]
    assert "nothing changed" in second.stdout
    assert f"schema: {_head()} -> {_head()}" in second.stdout
    assert _tree(root) == tree
    assert _settings(root) == settings  # the keys were kept, never made again
