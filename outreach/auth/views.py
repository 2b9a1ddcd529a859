from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import home_url, public
from ..extensions import db, limiter
from ..security import (
    get_user_token,
    revoke_token,
    safe_next,
    sign_in,
    sign_out,
    to_password_change,
    user_tokens,
)
from . import bp
from .forms import ChangePasswordForm, LoginForm
from .services import Refused, authenticate, change_password, confirm_identity


def _login_limit():
    return current_app.config["LOGIN_LIMIT"]


def _account_key():
    return "login-account:" + (request.form.get("email") or "").strip().lower()[:254]


@bp.route("/connexion", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_account_key)
def login():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data, form.password.data, form.totp.data,
                                request.remote_addr)
        except Refused as refused:
            db.session.commit()  # the failure, its audit row and its delay
            flash(refused.message, "error")
            return render_template("auth/login.html", form=form), refused.status
        sign_in(user)
        db.session.commit()
        if user.must_change_password:
            return to_password_change()
        return redirect(safe_next(request.args.get("next")) or home_url(user))
    status = 400 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/deconnexion", methods=["POST"])
@public
def logout():
    sign_out()
    db.session.commit()
    flash(_("Vous êtes déconnecté·e."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/")
def home():
    return redirect(home_url(current_user))


@bp.route("/accueil")
def home_fallback():
    return render_template("auth/home.html")


@bp.route("/mot-de-passe", methods=["GET", "POST"])
def password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            confirm_identity(user, form.current.data, None, request.remote_addr, with_code=False)
        except Refused as refused:
            db.session.commit()
            form.current.errors.append(refused.message)
            return render_template("auth/password.html", form=form), refused.status
        change_password(user, form.new.data)
        sign_in(user)
        db.session.commit()
        flash(_("Mot de passe modifié."), "success")
        return redirect(home_url(user))
    return render_template("auth/password.html", form=form), 400 if form.errors else 200


@bp.route("/compte/jetons")
def tokens():
    """The signed-in user's API tokens, to check their last use and revoke one."""
    return render_template("auth/tokens.html", tokens=user_tokens(current_user),
                           revoke_url=lambda t: url_for("auth.revoke_token", token_id=t.id))


@bp.route("/compte/jetons/<int:token_id>/revoquer", methods=["POST"], endpoint="revoke_token")
def revoke_token_view(token_id):
    user = current_user._get_current_object()
    revoke_token(get_user_token(user, token_id), user)
    db.session.commit()
    flash(_("Jeton d'API révoqué."), "success")
    return redirect(url_for("auth.tokens"))
