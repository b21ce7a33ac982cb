"""Command line: `flask setup`, `flask roles sync`, `flask opd import`, `flask demo seed`, `flask backup ...`,
`flask staff create`. Commands parse arguments and call services; they hold no business rules."""

from __future__ import annotations

import click
from pathlib import Path
from flask import Flask, current_app
from flask.cli import AppGroup


def _sync_permissions() -> dict[str, int]:
    from .services.accounts import PermissionSyncError, sync_permissions

    try:
        return sync_permissions()
    except PermissionSyncError as exc:
        raise click.ClickException(f"{exc} (perbaiki penyebabnya lalu jalankan lagi; perintah ini idempoten)") from exc


def _schema_revisions() -> str:
    """The database's Alembic revisions, e.g. "0019_deploy" ("" for an empty database)."""
    from alembic.migration import MigrationContext

    from .extensions import db

    with db.engine.connect() as conn:
        return ",".join(sorted(MigrationContext.configure(conn).get_current_heads()))


def register_cli(app: Flask) -> None:
    roles = AppGroup("roles", help="Peran dan hak akses.")
    opd = AppGroup("opd", help="Daftar OPD.")
    demo = AppGroup("demo", help="Data demo.")
    staff = AppGroup("staff", help="Akun petugas.")

    @roles.command("sync")
    def roles_sync():
        """Apply the role permission sets declared in app/security.py (idempotent)."""
        result = _sync_permissions()
        click.echo(f"Roles synced: {result['added']} permission(s) added, {result['removed']} removed.")

    @opd.command("import")
    @click.argument("path", required=False)
    def opd_import(path):
        """Create or update OPDs from a CSV (kode,nama,jenis[,tugas,kata_kunci]); default: the Lumajang list."""
        from .services.accounts import import_opds

        created, updated = import_opds(path)
        click.echo(f"OPD: {created} created, {updated} updated.")

    @demo.command("seed")
    def demo_seed():
        """Demo accounts (password from DEMO_PASSWORD) and complaints in every state."""
        from .demo import seed

        for line in seed():
            click.echo(line)

    @staff.command("create")
    @click.option("--username", required=True)
    @click.option("--email", required=True)
    @click.option("--first-name", default="Admin")
    @click.option("--last-name", default="Sistem")
    @click.option("--role", default="Admin Sistem", show_default=True)
    @click.option("--opd", "opd_code", default=None, help="OPD code, required for Admin OPD.")
    @click.password_option()
    def staff_create(username, email, first_name, last_name, role, opd_code, password):
        """Create a staff account (the password policy applies here too)."""
        from .services.accounts import create_staff
        from .services import ServiceError

        try:
            user = create_staff(username=username, email=email, first_name=first_name, last_name=last_name,
                                role=role, password=password, opd_code=opd_code)
        except ServiceError as exc:
            raise click.ClickException(
                exc.message + "".join(f"\n  {k}: {v}" for k, v in exc.errors.items())) from exc
        click.echo(f"Akun {user.username} ({role}) dibuat.")

    @app.cli.command("setup")
    @click.option("--demo", "with_demo", is_flag=True, help="Also seed demo accounts and complaints.")
    def setup(with_demo):
        """Migrate the database, register permissions, sync roles, import the OPD list."""
        from flask_migrate import upgrade

        from .services.accounts import import_opds

        before = _schema_revisions()
        upgrade(directory=current_app.extensions["migrate"].directory, revision="heads")
        after = _schema_revisions()
        result = _sync_permissions()
        created, updated = import_opds(None)
        # deploy/install.sh reads the "schema:" line to tell an upgrade from a run that changed nothing.
        click.echo(f"schema: {before or 'kosong'} -> {after}")
        click.echo(f"Database migrated; roles synced (+{result['added']}/-{result['removed']}); "
                   f"OPD {created} created, {updated} updated.")
        if with_demo:
            from .demo import seed

            for line in seed():
                click.echo(line)
            # The demo's old, unchecked complaint is overdue at once, before the scheduler's first run.
            from .services.sla import sweep

            report = sweep()
            click.echo(f"SLA: {report.validation_overdue} validasi dan {report.answer_overdue} jawaban terlambat "
                       f"ditandai; {report.notices} notifikasi ke Pimpinan.")

    for group in (roles, opd, demo, staff):
        app.cli.add_command(group)
    _register_security_cli(app)
    _register_scheduler_cli(app)
    _register_routing_cli(app)
    _register_open311_cli(app)
    _register_static_cli(app)
    _register_backup_cli(app)
    _register_summary_cli(app)


def _register_summary_cli(app: Flask) -> None:
    summary = AppGroup("summary", help="Ringkasan angka dasbor kendali dan rekap.")

    @summary.command("rebuild")
    def summary_rebuild():
        """Recompute the supervisors' summary table from the complaints (set-based; idempotent)."""
        from .services.summary import rebuild_all

        click.echo(f"Ringkasan dihitung ulang: {rebuild_all()} baris.")

    app.cli.add_command(summary)


def _register_open311_cli(app: Flask) -> None:
    """`flask open311 key create NAME | revoke NAME | list` (issue 15): the Open311 API keys."""
    from .services.common import Actor
    from .timeutil import format_wib
    from .workflow import Role

    open311 = AppGroup("open311", help="Open311 GeoReport v2.")
    key = AppGroup("key", help="Kunci API Open311 (satu per aplikasi atau saluran).")
    operator = Actor(roles=frozenset({Role.SYSTEM}), username="baris-perintah", display_name="Baris perintah")

    def refuse(exc):
        raise click.ClickException(exc.message + "".join(f"\n  {k}: {v}" for k, v in exc.errors.items())) from exc

    @key.command("create")
    @click.argument("name")
    def key_create(name):
        """Make a key for the channel NAME and print it once (only its hash is stored)."""
        from .services import ServiceError
        from .services.open311 import create_key

        try:
            view, api_key = create_key(name, operator)
        except ServiceError as exc:
            refuse(exc)
        click.echo(f"Kunci Open311 untuk {view.name} (simpan sekarang; tidak dapat ditampilkan lagi):")
        click.echo(api_key)

    @key.command("revoke")
    @click.argument("name")
    def key_revoke(name):
        """Revoke the key of the channel NAME: its requests are refused from now on."""
        from .services import ServiceError
        from .services.open311 import revoke_key

        try:
            view = revoke_key(operator, name=name)
        except ServiceError as exc:
            refuse(exc)
        click.echo(f"Kunci {view.name} dicabut pada {format_wib(view.revoked_at)}.")

    @key.command("list")
    def key_list():
        """Every key: name, status, who made it and when, last use."""
        from .services.open311 import list_keys

        keys = list_keys()
        if not keys:
            click.echo("Belum ada kunci Open311.")
        for k in keys:
            status = "aktif" if k.active else f"dicabut {format_wib(k.revoked_at)}"
            click.echo(f"{k.name}\t{status}\tdibuat {format_wib(k.created_at)} oleh {k.created_by or 'baris-perintah'}"
                       f"\tterakhir dipakai {format_wib(k.last_used_at)}")

    open311.add_command(key)
    app.cli.add_command(open311)


def _register_static_cli(app: Flask) -> None:
    static = AppGroup("static", help="Berkas statis untuk nginx.")

    @static.command("collect")
    @click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
    def static_collect(dest: Path):
        """Copy the app's and FAB's static files into DEST with fingerprinted names (app/staticfiles.py);
        point STATIC_MANIFEST at DEST/manifest.json and nginx's /static/ at DEST."""
        from .staticfiles import collect

        manifest = collect(current_app, dest)
        click.echo(f"{sum(len(v) for v in manifest.values())} berkas statis di {dest} "
                   f"(manifest: {dest / 'manifest.json'})")

    app.cli.add_command(static)


def _register_security_cli(app: Flask) -> None:
    """`flask nik rotate-key` and `flask retention run` (issue 6: personal data)."""
    nik = AppGroup("nik", help="Enkripsi NIK.")
    retention = AppGroup("retention", help="Retensi data pribadi.")

    @nik.command("rotate-key")
    @click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 100_000))
    def nik_rotate_key(batch_size):
        """Re-encrypt every stored NIK with NIK_ENCRYPTION_KEY (put the previous key in
        NIK_ENCRYPTION_OLD_KEYS first). Safe to re-run: rows already on the new key are skipped."""
        from .services.security import rotate_nik_key

        report = rotate_nik_key(batch_size=batch_size)
        click.echo(f"NIK: {report.rotated} dienkripsi ulang, {report.current} sudah memakai kunci baru, "
                   f"{report.erased} sudah dihapus (retensi), {report.failed} gagal.")
        if report.failed:
            ids = ", ".join(str(i) for i in report.failed_ids[:50])
            raise click.ClickException(
                f"{report.failed} NIK tidak dapat didekripsi dengan kunci yang dikonfigurasi "
                f"(id pengaduan: {ids}). Tambahkan kunci lama ke NIK_ENCRYPTION_OLD_KEYS lalu ulangi.")

    personal = AppGroup("personal-data", help="Data pribadi dalam teks tersimpan.")

    @personal.command("rescan")
    @click.option("--dry-run", is_flag=True, help="Only count what would change.")
    @click.option("--batch-size", default=500, show_default=True)
    def personal_data_rescan(dry_run, batch_size):
        """Re-scan every stored complaint, answer and their versions with the current detector: seal the
        NIKs and mask the personal data an older version missed (idempotent; run after upgrading)."""
        from .services.rescan import run

        report = run(dry_run=dry_run, batch_size=batch_size)
        verb = "would change" if dry_run else "changed"
        click.echo(f"Rescanned {report.complaints} complaint(s) and {report.answers} answer(s); "
                   f"{report.total_changed} field(s) {verb}.")
        for key, n in sorted(report.changed.items()):
            click.echo(f"  {key}: {n}")

    @retention.command("run")
    def retention_run():
        """Anonymise complaints closed longer than RETENTION_MONTHS ago (idempotent)."""
        from .services.retention import run

        report = run()
        click.echo(f"Retensi: {report.anonymised} pengaduan dianonimkan, {report.files_deleted} berkas dihapus "
                   f"(ditutup sebelum {report.cutoff:%Y-%m-%d %H:%M} UTC).")

    app.cli.add_command(nik)
    app.cli.add_command(retention)
    app.cli.add_command(personal)


def _register_scheduler_cli(app: Flask) -> None:
    """`flask scheduler run | run-once <job-id> | list` (issue 8: SLA watch). The jobs live in app/jobs.py."""
    scheduler = AppGroup("scheduler", help="Penjadwal tugas latar (satu proses; lihat README).")

    @scheduler.command("run")
    @click.option("--retry-seconds", default=30.0, show_default=True, type=click.FloatRange(0.05),
                  help="How often an idle scheduler tries to take the lock.")
    @click.option("--heartbeat-seconds", default=30.0, show_default=True, type=click.FloatRange(0.05),
                  help="How often the running scheduler checks that it still holds the lock.")
    def scheduler_run(retry_seconds, heartbeat_seconds):
        """Run the jobs until stopped (Ctrl-C / SIGTERM). A second scheduler stays idle."""
        import logging
        import signal

        from .jobs import SchedulerProcess

        # Our own line per job run is enough; APScheduler's INFO repeats each run three times.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)

        process = SchedulerProcess(current_app._get_current_object(), retry_seconds=retry_seconds,
                                   heartbeat_seconds=heartbeat_seconds)

        def stop(signum, _frame):
            click.echo(f"scheduler: signal {signum}, stopping", err=True)
            process.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        process.run()

    @scheduler.command("run-once")
    @click.argument("job_id")
    def scheduler_run_once(job_id):
        """Run one job now, in this process (jobs are idempotent; the lock is not needed)."""
        from .jobs import JOBS, find, run_job

        try:
            spec = find(job_id)
        except KeyError:
            raise click.ClickException(f"Unknown job {job_id!r}; known: {', '.join(j.id for j in JOBS)}") from None
        result = run_job(current_app._get_current_object(), spec)
        click.echo(f"{spec.id}: {result}")

    @scheduler.command("list")
    def scheduler_list():
        """The registered jobs and their triggers."""
        from .jobs import JOBS, trigger_args

        for spec in JOBS:
            click.echo(f"{spec.id:<18} {spec.trigger:<9} {trigger_args(spec, current_app.config)}  {spec.description}")

    app.cli.add_command(scheduler)



def _register_routing_cli(app: Flask) -> None:
    """`flask routing train | evaluate FILE.tsv` (issue 18: OPD suggestion)."""
    routing = AppGroup("routing", help="Saran OPD: melatih dan mengukur model.")

    @routing.command("train")
    def routing_train():
        """Train the OPD-suggestion model on the OPD duties and the answered complaints; store it as the
        next version (the scheduler does this nightly)."""
        from .services import ServiceError
        from .services.routing import train_and_store

        try:
            done = train_and_store()
        except ServiceError as exc:
            raise click.ClickException(exc.message) from exc
        click.echo(f"Model saran OPD versi {done.version}: {done.answered} pengaduan terjawab, "
                   f"{done.returns} pengembalian, {done.cold_documents} dokumen tugas/kata kunci; "
                   f"{done.size_bytes / 1024:.0f} KiB, {done.seconds:.1f} s.")
        if done.metrics:
            m = done.metrics
            click.echo(f"Diukur pada {m['n']} pengaduan terbaru: top-1 {m['top1']:.1%}, top-3 {m['top3']:.1%} "
                       f"(awal tanpa riwayat: top-1 {m['cold_top1']:.1%}, top-3 {m['cold_top3']:.1%}).")

    @routing.command("evaluate")
    @click.argument("path", type=click.Path(dir_okay=False))
    @click.option("--cold-start", is_flag=True, help="Measure a model built from the OPD duties alone.")
    @click.option("--misses", is_flag=True, help="List the complaints whose first suggestion is wrong.")
    def routing_evaluate(path, cold_start, misses):
        """Top-1 and top-3 accuracy on a TSV with the columns `opd` (acceptable codes separated by "|")
        and `text`."""
        from .services import ServiceError
        from .services.routing import evaluate_file

        try:
            result = evaluate_file(path, cold_start=cold_start)
        except ServiceError as exc:
            raise click.ClickException(exc.message) from exc
        if misses:
            for text, wanted, got in result.misses:
                click.echo(f"  {'|'.join(wanted)} ← {', '.join(got) or '-'}: {text[:100]}")
        click.echo(f"{result.total} pengaduan: top-1 {result.top1_rate:.1%} ({result.top1}), "
                   f"top-3 {result.top3_rate:.1%} ({result.top3}).")

    app.cli.add_command(routing)


def _register_backup_cli(app: Flask) -> None:
    """`flask backup create DIR | verify DIR | restore DIR --database-url URL` (issue 14). The work is in
    app/services/backup.py."""
    backup = AppGroup("backup", help="Cadangan basis data dan lampiran.")

    def _call(name: str, *args):
        from .services import ServiceError
        from .services import backup as service

        try:
            return getattr(service, name)(*args)
        except ServiceError as exc:
            raise click.ClickException(exc.message) from exc

    @backup.command("create")
    @click.argument("directory", type=click.Path(file_okay=False))
    def backup_create(directory):
        """Write a consistent backup (database dump, attachments, manifest) into a new or empty DIRECTORY."""
        report = _call("create", directory)
        m = report.manifest
        click.echo(f"Cadangan {report.directory}: {m['database']}, revisi {', '.join(m['alembic_revision']) or '-'}, "
                   f"{report.rows} baris dalam {len(m['tables'])} tabel, {report.files} lampiran.")
        for problem in report.problems:
            click.echo(f"  peringatan: {problem}", err=True)

    @backup.command("verify")
    @click.argument("directory", type=click.Path(file_okay=False, exists=True))
    def backup_verify(directory):
        """Check every file of a backup against its manifest (checksums, sizes, readable dump)."""
        report = _call("verify", directory)
        m = report.manifest
        click.echo(f"Cadangan utuh: {len(m['files'])} berkas cocok dengan manifest ({m['created_at_wib']}, "
                   f"{report.rows} baris, {report.files} lampiran).")

    @backup.command("restore")
    @click.argument("directory", type=click.Path(file_okay=False, exists=True))
    @click.option("--database-url", required=True, help="An empty database to restore into.")
    @click.option("--upload-dir", default=None, help="An empty attachment folder (default: UPLOAD_DIR).")
    def backup_restore(directory, database_url, upload_dir):
        """Verify DIRECTORY, restore it into an empty database and attachment folder, check the result."""
        report = _call("restore", directory, database_url, upload_dir or current_app.config["UPLOAD_DIR"])
        click.echo(f"Dipulihkan: {report.rows} baris dan {report.files} lampiran cocok dengan manifest. "
                   "Jalankan `flask --app run setup` dengan DATABASE_URL baru bila versi aplikasi lebih baru.")

    app.cli.add_command(backup)
