"""``flask --app wsgi export-sqlite PATH [--from YYYY-MM] [--to YYYY-MM]``."""
import click
from flask import current_app

from .. import audit, queryargs
from ..errors import ValidationError
from ..extensions import db
from . import bp
from .snapshot import metadata_path, write_snapshot


@bp.cli.command("export-sqlite")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--from", "start",
              help="First month (YYYY-MM or YYYY-MM-DD); default: 11 months before --to.")
@click.option("--to", "end",
              help="Last month (YYYY-MM or YYYY-MM-DD); default: this month (without --from "
              "either: the last 12 complete months).")
def export_sqlite(path, start, end):
    """Write the open-data snapshot (suppressed aggregates only) to an SQLite file for Datasette."""
    args = {"period": "custom", "from": start, "to": end} if start or end else {}
    with current_app.test_request_context():  # labels are translated, which needs a request
        try:
            period = queryargs.parse_period(args)
        except ValidationError as error:
            raise click.ClickException("; ".join(error.errors.values())) from None
        counts = write_snapshot(path, period)
    audit.record("export.snapshot", details={"path": path, "from": period.start.isoformat(),
                                             "to": period.end.isoformat(), "rows": counts})
    db.session.commit()
    click.echo(f"{path}: " + ", ".join(f"{n} {t}" for t, n in counts.items()))
    click.echo(f"browse it: datasette {path} -m {metadata_path(path)}")
