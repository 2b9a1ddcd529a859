"""``flask --app wsgi import-plan FILE | export-plan FILE | refresh-rollups | catch-up-rollups``."""
import click
from flask import current_app

from ..errors import ValidationError
from ..extensions import db
from . import bp
from .catalogue import current_plan, import_plan, parse, to_csv, to_yaml
from .rollups import catch_up, refresh_rollups


@bp.cli.command("import-plan")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_plan_command(path):
    """Install a plan catalogue from YAML or CSV (replaces the plan with the same code)."""
    with open(path, encoding="utf-8-sig") as handle:
        text = handle.read()
    try:
        with current_app.test_request_context():
            plan = import_plan(parse(text, path), source=path)
    except ValidationError as error:
        db.session.rollback()
        raise click.ClickException("; ".join(str(v) for v in error.errors.values())) from None
    db.session.commit()
    count = sum(len(a.indicators) for axis in plan.axes for a in axis.actions)
    click.echo(f"plan {plan.code}: {len(plan.axes)} axes, {count} indicators")


@bp.cli.command("export-plan")
@click.argument("path", type=click.Path(dir_okay=False))
def export_plan(path):
    """Write the current plan catalogue as YAML, or CSV when PATH ends with .csv."""
    plan = current_plan()
    if plan is None:
        raise click.ClickException("no plan installed")
    text = to_csv(plan) if path.lower().endswith(".csv") else to_yaml(plan)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    click.echo(f"wrote {path}")


@bp.cli.command("refresh-rollups")
def refresh_rollups_command():
    """Rebuild every indicator roll-up from the raw tables."""
    refresh_rollups(db.session)
    db.session.commit()
    click.echo("roll-ups rebuilt")


@bp.cli.command("catch-up-rollups")
def catch_up_rollups_command():
    """Bring the roll-ups up to date with every write committed so far. Run it every minute or so
    (a systemd timer, cron): the first dashboard read of a morning then finds no night's backlog
    of marks to catch up before answering."""
    done = catch_up(db.session)
    db.session.commit()
    click.echo(f"{done} roll-up marks caught up")
