"""Command line: `flask setup`, `flask roles sync`, `flask opd import`, `flask demo seed`,
`flask staff create`. Commands parse arguments and call services; they hold no business rules."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup


def _sync_permissions() -> dict[str, int]:
    from .services.accounts import PermissionSyncError, sync_permissions

    try:
        return sync_permissions()
    except PermissionSyncError as exc:
        raise click.ClickException(f"{exc} (perbaiki penyebabnya lalu jalankan lagi; perintah ini idempoten)") from exc


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
        """Create or update OPDs from a CSV (kode,nama,jenis); default: the Lumajang list."""
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

        upgrade(directory=current_app.extensions["migrate"].directory, revision="heads")
        result = _sync_permissions()
        created, updated = import_opds(None)
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

    @retention.command("run")
    def retention_run():
        """Anonymise complaints closed longer than RETENTION_MONTHS ago (idempotent)."""
        from .services.retention import run

        report = run()
        click.echo(f"Retensi: {report.anonymised} pengaduan dianonimkan, {report.files_deleted} berkas dihapus "
                   f"(ditutup sebelum {report.cutoff:%Y-%m-%d %H:%M} UTC).")

    app.cli.add_command(nik)
    app.cli.add_command(retention)


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

