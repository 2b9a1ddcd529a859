"""``flask --app wsgi import-contacts FILE --organisation CODE [--partial]``."""
import os
import time

import click
from flask import current_app

from ..errors import ValidationError
from ..extensions import db
from ..models import Organisation, User
from . import bp, reading, services


@bp.cli.command("import-contacts")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--organisation", "organisation_code", required=True, help="Organisation code.")
@click.option("--partial", is_flag=True,
              help="Import the valid rows only (default: all or nothing).")
@click.option("--user", "email",
              help="Author recorded on the imported records (default: a supervisor/admin).")
def import_contacts_command(path, organisation_code, partial, email):
    """Import contacts from a CSV/XLSX file made from the template."""
    org = db.session.execute(
        db.select(Organisation).filter_by(code=organisation_code)).scalar_one_or_none()
    if org is None:
        raise click.ClickException(f"unknown organisation {organisation_code!r}")
    user = _user(org, email)
    started = time.perf_counter()
    with current_app.test_request_context():  # messages are translated, which needs a request
        report = _run(path, org, user, partial)
    for error in report.errors[:500]:
        click.echo(f"ligne {error.line}, colonne {error.column} : {error.message}", err=True)
    if report.errors and not partial:
        db.session.rollback()
        raise click.ClickException(f"{len(report.errors)} erreur(s) : rien n'a été importé")
    db.session.commit()
    click.echo(f"{report.created} created, {report.already} already present, "
               f"{report.total - report.valid} rejected ({time.perf_counter() - started:.1f} s)")


def _run(path, org, user, partial):
    """The file is read as a stream, twice (checked, then written), in bounded batches."""
    try:
        return services.import_contacts(reading.file_rows(path), org, user, partial=partial,
                                        source=os.path.basename(path))
    except ValidationError as error:
        raise click.ClickException("; ".join(error.errors.values())) from None


def _user(org, email):
    if email:
        user = db.session.execute(db.select(User).filter_by(
            email=email.lower(), organisation_id=org.id)).scalar_one_or_none()
    else:
        user = services.default_importer(org)
    if user is None:
        raise click.ClickException("no supervisor or admin of this organisation to record as "
                                   "author (use --user)")
    return user
