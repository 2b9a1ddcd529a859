from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ..access import home_url, public
from ..extensions import db, limiter
from ..security import safe_next, verify_password
from . import bp
from .forms import ChangePasswordForm, LoginForm
from .services import authenticate, change_password, verify_totp


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
        user, error = authenticate(form.email.data, form.password.data, request.remote_addr)
        if user is not None and not verify_totp(user, form.totp.data):
            user, error = None, _("Code à usage unique manquant ou incorrect.")
        db.session.commit()
        if user is not None:
            login_user(user)
            if user.must_change_password:
                flash(_("Choisissez un nouveau mot de passe avant de continuer."), "info")
                return redirect(url_for("auth.password"))
            return redirect(safe_next(request.args.get("next")) or home_url(user))
        flash(error, "error")
        return render_template("auth/login.html", form=form), 401
    status = 400 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/deconnexion", methods=["POST"])
@public
def logout():
    logout_user()
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
        if not verify_password(user, form.current.data):
            form.current.errors.append(_("Mot de passe actuel incorrect."))
        else:
            change_password(user, form.new.data)
            db.session.commit()
            login_user(user)
            flash(_("Mot de passe modifié."), "success")
            return redirect(home_url(user))
    return render_template("auth/password.html", form=form), 400 if form.errors else 200
