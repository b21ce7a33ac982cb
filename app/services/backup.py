"""Backup and restore of the database and the attachment store (`flask --app run backup create|verify|restore`).

A backup is one folder:

    manifest.json        what is in it: format, time (UTC and WIB), app version, schema (Alembic) revision,
                         database kind, row count per table, size and sha256 of every file below
    database.dump        PostgreSQL: `pg_dump --format=custom` (restored with `pg_restore`)
    database.sqlite3     SQLite: a copy made with SQLite's online backup API (consistent while the app runs)
    attachments/<name>   every file the backed-up `attachment` rows name

Consistency: the row counts and the dump come from one snapshot (PostgreSQL: a REPEATABLE READ transaction
exports its snapshot and pg_dump reads that very snapshot; SQLite: the counts are read from the copy). The
attachment files are copied *after* the snapshot and only those its rows name: an upload writes its file
before its row commits and files are deleted only after the commit that drops their row, so every file a
snapshot names is on disk when it is copied (a file removed since, by retention, is reported as missing).

`verify` recomputes every checksum and checks the dump is readable (and, on SQLite, the row counts);
`restore` verifies first, refuses a target database that already holds tables (and an attachment folder
that already holds files), restores, then checks row counts and schema revision against the manifest.
The checksums detect corruption and tampering with the data files; they cannot prove who wrote the
manifest, so keep backups where only the operators can write (README, "Cadangan dan pemulihan").
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.engine import make_url

from ..timeutil import to_wib
from .common import Conflict, Invalid

FORMAT = 1
MANIFEST = "manifest.json"
ATTACHMENTS = "attachments"
DUMP = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
_CHUNK = 1 << 20


class BackupError(Invalid):
    """A backup cannot be made, is damaged, or cannot be restored where asked; the message says why."""


@dataclass
class BackupReport:
    directory: Path
    manifest: dict
    problems: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(self.manifest["tables"].values())

    @property
    def files(self) -> int:
        return len([n for n in self.manifest["files"] if n.startswith(ATTACHMENTS + "/")])


# --------------------------------------------------------------------------- helpers


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _libpq(url: sa.URL) -> tuple[str, dict[str, str]]:
    """A SQLAlchemy URL as a libpq connection string for pg_dump/pg_restore, with the password in the
    environment (never on a command line that `ps` shows)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise BackupError(f"{command[0]} tidak ditemukan: pasang postgresql-client (versi server atau lebih baru).") from exc
    if done.returncode != 0:
        raise BackupError(f"{what} gagal: {done.stderr.strip()[-800:] or done.returncode}")


def _tables(conn: sa.Connection) -> list[str]:
    return sorted(sa.inspect(conn).get_table_names())


def _counts(conn: sa.Connection) -> dict[str, int]:
    return {name: int(conn.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar_one()) for name in _tables(conn)}


def _revision(conn: sa.Connection) -> list[str]:
    if "alembic_version" not in _tables(conn):
        return []
    return sorted(r[0] for r in conn.execute(sa.text("SELECT version_num FROM alembic_version")))


def _stored_names(conn: sa.Connection) -> list[str]:
    if "attachment" not in _tables(conn):
        return []
    return [r[0] for r in conn.execute(sa.text("SELECT stored_name FROM attachment ORDER BY id"))]


def _sqlite_path(url: sa.URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("Basis data SQLite di memori tidak dapat dicadangkan atau dipulihkan.")
    return Path(url.database)


def _sqlite_copy(source_path: Path, target_path: Path) -> None:
    """SQLite's online backup API: a consistent copy even while other connections write."""
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
    copy = sqlite3.connect(target_path)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()


def _app_version() -> str:
    from .. import __version__

    return __version__


# --------------------------------------------------------------------------- create


def create(directory: str | Path, *, database_url: str | None = None, upload_dir: str | Path | None = None) -> BackupReport:
    """Write a backup of the app's database (or `database_url`) and attachment store into `directory`,
    which must be new or empty."""
    target = Path(directory)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"Folder cadangan {target} sudah berisi berkas; pilih folder baru atau kosong.")
    url = make_url(database_url or current_app.config["SQLALCHEMY_DATABASE_URI"])
    uploads = Path(upload_dir or current_app.config["UPLOAD_DIR"])
    target.mkdir(parents=True, exist_ok=True)
    try:
        return _create(target, url, uploads)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)  # no half backup that looks like a whole one
        raise


def _create(target: Path, url: sa.URL, uploads: Path) -> BackupReport:
    kind = url.get_backend_name()
    if kind not in DUMP:
        raise BackupError(f"Jenis basis data {kind} tidak didukung (hanya PostgreSQL dan SQLite).")
    dump = target / DUMP[kind]
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        if kind == "postgresql":
            with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
                with conn.begin():
                    snapshot = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
                    counts, revision, names = _counts(conn), _revision(conn), _stored_names(conn)
                    dsn, env = _libpq(url)
                    # The transaction stays open until pg_dump has read the exported snapshot.
                    _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                          f"--file={dump}", f"--dbname={dsn}"], env, "pg_dump")
        else:
            _sqlite_copy(_sqlite_path(url), dump)
            copied = sa.create_engine(f"sqlite:///{dump}", poolclass=sa.pool.NullPool)
            try:
                with copied.connect() as conn:
                    counts, revision, names = _counts(conn), _revision(conn), _stored_names(conn)
            finally:
                copied.dispose()
    finally:
        engine.dispose()

    problems: list[str] = []
    folder = target / ATTACHMENTS
    folder.mkdir()
    for name in names:
        source_file = uploads / name
        if "/" in name or "\\" in name or name.startswith("."):
            problems.append(f"nama lampiran tidak sah dilewati: {name!r}")
            continue
        try:
            shutil.copyfile(source_file, folder / name)
        except FileNotFoundError:
            problems.append(f"lampiran {name} tercatat di basis data tetapi tidak ada di {uploads}")

    files = {}
    for path in sorted([dump, *folder.iterdir()]):
        rel = path.relative_to(target).as_posix()
        files[rel] = {"sha256": _sha256(path), "size": path.stat().st_size}
    now = datetime.now(timezone.utc)
    manifest = {
        "format": FORMAT,
        "created_at": now.isoformat(timespec="seconds"),
        "created_at_wib": to_wib(now).isoformat(timespec="seconds"),
        "app_version": _app_version(),
        "database": kind,
        "dump": DUMP[kind],
        "alembic_revision": revision,
        "tables": counts,
        "attachments_missing": problems,
        "files": files,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return BackupReport(target, manifest, problems)


# --------------------------------------------------------------------------- verify


def _read_manifest(target: Path) -> dict:
    path = target / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{path} tidak ada: {target} bukan folder cadangan.") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BackupError(f"{path} rusak (bukan JSON yang sah): {exc}") from None
    required = {"format", "database", "dump", "alembic_revision", "tables", "files"}
    if not isinstance(manifest, dict) or not required <= manifest.keys():
        raise BackupError(f"{path} tidak lengkap: perlu {', '.join(sorted(required))}.")
    if manifest["format"] != FORMAT:
        raise BackupError(f"Format cadangan {manifest['format']!r} tidak dikenal (versi ini membaca {FORMAT}).")
    if manifest["database"] not in DUMP or manifest["dump"] != DUMP[manifest["database"]]:
        raise BackupError(f"{path}: jenis basis data {manifest['database']!r} tidak dikenal.")
    if manifest["dump"] not in manifest["files"]:
        raise BackupError(f"{path} tidak mencatat berkas basis data {manifest['dump']}.")
    return manifest


def verify(directory: str | Path) -> BackupReport:
    """Check a backup folder against its manifest; raise BackupError listing every difference."""
    target = Path(directory)
    manifest = _read_manifest(target)
    problems: list[str] = []
    listed = manifest["files"]
    present = {p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()} - {MANIFEST}
    for rel in sorted(present - listed.keys()):
        problems.append(f"berkas {rel} tidak tercatat di manifest")
    for rel, meta in sorted(listed.items()):
        path = target / rel
        if rel not in present:
            problems.append(f"berkas {rel} hilang")
        elif path.stat().st_size != meta.get("size"):
            problems.append(f"berkas {rel}: ukuran {path.stat().st_size}, manifest {meta.get('size')}")
        elif _sha256(path) != meta.get("sha256"):
            problems.append(f"berkas {rel}: checksum sha256 tidak cocok")
    if not problems:
        problems.extend(_check_dump(target, manifest))
    if problems:
        raise BackupError("Cadangan tidak utuh: " + "; ".join(problems[:20])
                          + (f" (dan {len(problems) - 20} lagi)" if len(problems) > 20 else ""))
    return BackupReport(target, manifest)


def _check_dump(target: Path, manifest: dict) -> list[str]:
    dump = target / manifest["dump"]
    if manifest["database"] == "postgresql":
        try:
            _run(["pg_restore", "--list", str(dump)], dict(os.environ), "pg_restore --list")
        except BackupError as exc:
            return [exc.message]
        return []
    engine = sa.create_engine(f"sqlite:///file:{dump}?mode=ro&uri=true", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            check = conn.execute(sa.text("PRAGMA integrity_check")).scalar_one()
            if check != "ok":
                return [f"salinan SQLite rusak: {check}"]
            return _compare(_counts(conn), _revision(conn), manifest, "salinan")
    except sa.exc.DBAPIError as exc:
        return [f"salinan SQLite tidak terbaca: {exc.orig}"]
    finally:
        engine.dispose()


def _compare(counts: dict[str, int], revision: list[str], manifest: dict, where: str) -> list[str]:
    problems = []
    if revision != manifest["alembic_revision"]:
        problems.append(f"revisi skema {where} {revision}, manifest {manifest['alembic_revision']}")
    for name in sorted(counts.keys() | manifest["tables"].keys()):
        if counts.get(name) != manifest["tables"].get(name):
            problems.append(f"tabel {name}: {counts.get(name)} baris di {where}, manifest {manifest['tables'].get(name)}")
    return problems


# --------------------------------------------------------------------------- restore


def restore(directory: str | Path, database_url: str, upload_dir: str | Path) -> BackupReport:
    """Restore a verified backup into an empty database and an empty attachment folder, then check the
    restored rows against the manifest."""
    report = verify(directory)
    manifest, target = report.manifest, Path(directory)
    if database_url.startswith(("postgresql://", "postgres://")):
        database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]
    try:
        url = make_url(database_url)
    except sa.exc.ArgumentError:
        raise BackupError(f"--database-url bukan alamat basis data yang sah: {database_url!r}") from None
    kind = url.get_backend_name()
    if kind != manifest["database"]:
        raise BackupError(f"Cadangan ini dari {manifest['database']}; tidak dapat dipulihkan ke {kind}.")
    uploads = Path(upload_dir)
    if uploads.exists() and (not uploads.is_dir() or any(uploads.iterdir())):
        raise Conflict(f"Folder lampiran {uploads} tidak kosong; pulihkan ke folder kosong (--upload-dir).",
                       code="not_empty")
    _refuse_non_empty(url)

    dump = target / manifest["dump"]
    if kind == "postgresql":
        dsn, env = _libpq(url)
        _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
              f"--dbname={dsn}", str(dump)], env, "pg_restore")
    else:
        path = _sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(dump, path)

    uploads.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=uploads) as staging:
        for rel in manifest["files"]:
            if rel.startswith(ATTACHMENTS + "/"):
                shutil.copyfile(target / rel, Path(staging) / rel.split("/", 1)[1])
        for item in Path(staging).iterdir():
            item.replace(uploads / item.name)

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            problems = _compare(_counts(conn), _revision(conn), manifest, "basis data tujuan")
    finally:
        engine.dispose()
    for rel, meta in manifest["files"].items():
        if rel.startswith(ATTACHMENTS + "/"):
            restored = uploads / rel.split("/", 1)[1]
            if not restored.is_file() or _sha256(restored) != meta["sha256"]:
                problems.append(f"lampiran {restored} tidak sama dengan cadangan")
    if problems:
        raise BackupError("Pemulihan selesai tetapi tidak cocok dengan manifest: " + "; ".join(problems[:20]))
    return BackupReport(target, manifest, list(manifest.get("attachments_missing", [])))


def _refuse_non_empty(url: sa.URL) -> None:
    if url.get_backend_name() == "sqlite":
        path = _sqlite_path(url)
        if path.exists() and path.stat().st_size > 0:
            raise Conflict(f"Basis data tujuan {path} sudah ada; pemulihan hanya ke basis data baru yang kosong.",
                           code="not_empty")
        return
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            count = conn.execute(sa.text(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') "
                "AND n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast_temp%' "
                "AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')")).scalar_one()
    except sa.exc.OperationalError as exc:
        raise BackupError(f"Basis data tujuan tidak dapat dibuka ({exc.orig}); buat dulu basis data kosong "
                          "(createdb) lalu ulangi.") from None
    finally:
        engine.dispose()
    if count:
        raise Conflict(f"Basis data tujuan {url.database} tidak kosong ({count} tabel/urutan); pemulihan hanya ke "
                       "basis data baru yang kosong (createdb nama_baru).", code="not_empty")
