"""Command-line tools: ``flask --app wsgi <command>``."""
import sys

import click
from flask import current_app

from .extensions import db
from .models import ROLES, Organisation, Team, User
from .security import hash_password, new_api_token


def _read_password():
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--organisation", "organisation_code",
              help="Organisation code (none for an instance admin).")
@click.option("--team", "team_codes", multiple=True, help="Team code; repeat for several teams.")
def create_user(email, role, organisation_code, team_codes):
    """Create a user; the password is read from a prompt or standard input, never from argv."""
    from .auth.services import password_problem
    email = email.strip().lower()
    if db.session.execute(db.select(User.id).filter_by(email=email)).first():
        raise click.ClickException(f"{email} already exists")
    org = None
    if organisation_code:
        org = db.session.execute(
            db.select(Organisation).filter_by(code=organisation_code)).scalar_one_or_none()
        if org is None:
            raise click.ClickException(f"unknown organisation {organisation_code!r}")
    teams = [_team(org, code) for code in team_codes]
    password = _read_password()
    with current_app.test_request_context():  # messages are translated, which needs a request
        problem = password_problem(password)
    if problem:
        raise click.ClickException(problem)
    db.session.add(User(email=email, role=role, organisation=org, teams=teams,
                        password_hash=hash_password(password)))
    db.session.commit()
    click.echo(f"created {role} {email}")


def _team(org, code):
    team = db.session.execute(db.select(Team).filter_by(code=code)).scalar_one_or_none()
    if team is None or org is None or team.organisation_id != org.id:
        raise click.ClickException(f"unknown team {code!r} for this organisation")
    return team


@click.command("create-token")
@click.argument("email")
@click.option("--label", default="cli")
@click.option("--days", type=click.IntRange(1, 3650), default=None,
              help="Valid for this many days (default: OUTREACH_TOKEN_DAYS).")
def create_token(email, label, days):
    """Print a new API bearer token for EMAIL (shown once, stored hashed; /api/ only; listed and
    revoked at /compte/jetons and on the admin's user page)."""
    user = db.session.execute(
        db.select(User).filter_by(email=email.strip().lower())).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"unknown user {email}")
    token = new_api_token(user, label, days)
    db.session.commit()
    click.echo(token)


@click.command("seed-demo")
@click.option("--encounters", type=int, default=0,
              help="Also build a synthetic history of N contacts.")
@click.option("--seed", "random_seed", type=int, default=1,
              help="Random seed of the synthetic history.")
@click.option("--history", is_flag=True,
              help="Also a year of history for the demo teams (idempotent).")
def seed_demo_command(encounters, random_seed, history):
    """Demo organisations, teams, reference lists and logins (idempotent)."""
    from .seed import DEMO_PASSWORD, DEMO_USERS, seed_demo
    created = seed_demo()
    db.session.commit()
    if history:
        from .indicators.synthetic import build_demo_history
        click.echo(build_demo_history(seed=random_seed))
        from .sites.seed import seed_after_history
        click.echo(seed_after_history())
        db.session.commit()
    if encounters:
        from .indicators.synthetic import build_history
        click.echo(build_history(encounters, random_seed))
    click.echo(f"demo data ready ({len(created)} users created)")
    click.echo(f"demo logins (password: {DEMO_PASSWORD}):")
    for email, role, *_ in DEMO_USERS:
        click.echo(f"  {role:<11} {email}")


@click.command("settings")
def settings_command():
    """Document every OUTREACH_* setting."""
    from .config import describe
    for line in describe():
        click.echo(line)
    click.echo(f"database: {current_app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}")


COMMANDS = [create_user, create_token, seed_demo_command, settings_command]


def init_app(app):
    for command in COMMANDS:
        app.cli.add_command(command)
