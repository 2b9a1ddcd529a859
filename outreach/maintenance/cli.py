"""``flask --app wsgi purge | rotate-pseudonym-key | backup | restore``."""
import os

import click
from flask import current_app

from ..extensions import db
from . import bp
from .backup import BackupError, backup_database, restore_database
from .guard import install_audit_guard
from .keys import KeyError_, rotate_codes
from .purge import cutoff_for, plan_purge, purge_person_data


@bp.cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Say what would be removed, remove nothing.")
@click.option("--months", type=click.IntRange(min=1), default=None,
              help="Retention in months (default: OUTREACH_RETENTION_MONTHS).")
def purge(dry_run, months):
    """Delete person-level data (contacts, referrals, codes) older than the retention period."""
    months = months or current_app.config["RETENTION_MONTHS"]
    cutoff = cutoff_for(months)
    if dry_run:
        counts = plan_purge(cutoff)
        db.session.rollback()
        click.echo(f"dry run: before {cutoff.isoformat()} would remove " + _summary(counts))
        return
    counts = purge_person_data(cutoff)
    db.session.commit()
    click.echo(f"purged before {cutoff.isoformat()}: " + _summary(counts))


def _summary(counts):
    return ", ".join(f"{n} {name}" for name, n in counts.items())


def _env_value(name):
    value = os.environ.get(name)
    if not value:
        raise click.ClickException(f"environment variable {name} is empty or not set")
    return value


@bp.cli.command("rotate-pseudonym-key")
@click.option("--old-key-env", required=True,
              help="Name of the variable holding the current key (chain).")
@click.option("--new-key-env", required=True, help="Name of the variable holding the new key.")
def rotate_pseudonym_key(old_key_env, new_key_env):
    """Re-key every stored pseudonym code in one transaction (keys read from the environment)."""
    try:
        chain = rotate_codes(_env_value(old_key_env), _env_value(new_key_env),
                             current_app.config["PSEUDONYM_KEY"])
    except KeyError_ as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    if _update_dev_secrets(chain):
        click.echo("codes re-keyed; instance/secrets.json now holds the new key chain. "
                   "Restart the application.")
        return
    click.echo("codes re-keyed. Now set OUTREACH_PSEUDONYM_KEY to "
               f'"${old_key_env},${new_key_env}" and restart the application.')


def _update_dev_secrets(chain):
    """Development keys live in instance/secrets.json (see config.py): keep it in step."""
    import json
    path = os.path.join(current_app.instance_path, "secrets.json")
    if os.environ.get("OUTREACH_PSEUDONYM_KEY") or not os.path.exists(path):
        return False
    with open(path, encoding="utf-8") as fh:
        values = json.load(fh)
    if values.get("PSEUDONYM_KEY") != current_app.config["PSEUDONYM_KEY"]:
        return False
    values["PSEUDONYM_KEY"] = chain
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(values, fh)
    return True


@bp.cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
def backup(path):
    """Copy the database to PATH (SQLite online backup; PostgreSQL: pg_dump custom format)."""
    try:
        backup_database(path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backup written to {path}")


@bp.cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False))
@click.confirmation_option(prompt="Replace every row of the database with the backup?")
def restore(path):
    """Replace the database's contents with the backup at PATH."""
    try:
        restore_database(path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"restored from {path}")


@bp.cli.command("guard-audit-log")
@click.option("--remove", is_flag=True, help="Drop the triggers (e.g. before a manual repair).")
def guard_audit_log(remove):
    """Install database triggers that refuse UPDATE and DELETE on the audit log (idempotent)."""
    install_audit_guard(remove=remove)
    db.session.commit()
    click.echo("audit log guard " + ("removed" if remove else "installed"))
