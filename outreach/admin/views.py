from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from ..access import allow, public
from ..auth import throttle
from ..auth.services import Refused, confirm_identity
from ..extensions import db
from ..labels import label
from ..security import get_user_token, revoke_token, sign_in, user_tokens
from . import bp
from . import services as svc
from .forms import (
    AuditFilterForm,
    ConfirmForm,
    InviteForm,
    SetPasswordForm,
    TotpForm,
    UserForm,
)


def _admin():
    return current_user._get_current_object()


def _invite_form():
    admin = _admin()
    return InviteForm().setup(svc.assignable_roles(admin), svc.scoped_organisations(admin),
                              svc.scoped_teams(admin))


@bp.route("/admin/utilisateurs")
def users():
    rows = db.session.execute(svc.scoped_users(_admin())).scalars().all()
    return render_template("admin/users.html", users=rows, form=_invite_form())


@bp.route("/admin/utilisateurs/inviter", methods=["POST"])
def invite():
    form = _invite_form()
    if not form.validate_on_submit():
        rows = db.session.execute(svc.scoped_users(_admin())).scalars().all()
        return render_template("admin/users.html", users=rows, form=form), 422
    user = svc.invite_user(_admin(), form.email.data, form.role.data, form.organisation_id.data,
                           form.teams.data)
    secret = svc.set_temporary_password(_admin(), user) if form.mode.data == "temporary" else None
    link = None if secret else url_for("admin.accept", token=svc.invitation_token(user),
                                       _external=True)
    db.session.commit()
    return render_template("admin/credentials.html", user=user, link=link, password=secret), 201


def _user_form(user):
    admin = _admin()
    teams = [t for t in svc.scoped_teams(admin) if t.organisation_id == user.organisation_id]
    return UserForm(obj=None if request.method == "POST"
                    else user).setup(svc.assignable_roles(admin), teams)


@bp.route("/admin/utilisateurs/<int:user_id>", methods=["GET", "POST"])
def user(user_id):
    target = svc.get_user(_admin(), user_id)
    form = _user_form(target)
    if request.method == "GET":
        form.teams.data = target.team_ids
    if form.validate_on_submit():
        svc.change_role(_admin(), target, form.role.data)
        svc.change_teams(_admin(), target, form.teams.data)
        db.session.commit()
        flash(_("Compte mis à jour."), "success")
        return redirect(url_for("admin.user", user_id=target.id))
    status = 422 if form.errors else 200
    return render_template("admin/user.html", target=target, form=form, confirm=ConfirmForm(),
                           tokens=user_tokens(target), delay=throttle.account_delay(target.email),
                           revoke_url=lambda t: url_for("admin.revoke_user_token",
                                                        user_id=target.id, token_id=t.id)), status


def _action(user_id, apply, message):
    target = svc.get_user(_admin(), user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    result = apply(_admin(), target)
    db.session.commit()
    return target, result, message


@bp.route("/admin/utilisateurs/<int:user_id>/desactiver", methods=["POST"])
def disable(user_id):
    target, done, _m = _action(user_id, lambda a, u: svc.set_enabled(a, u, False), None)
    flash(
        _("Compte désactivé.") if done else _("Vous ne pouvez pas désactiver votre propre compte."),
        "success" if done else "error")
    return redirect(url_for("admin.user", user_id=target.id))


@bp.route("/admin/utilisateurs/<int:user_id>/activer", methods=["POST"])
def enable(user_id):
    target, _r, _m = _action(user_id, lambda a, u: svc.set_enabled(a, u, True), None)
    flash(_("Compte réactivé."), "success")
    return redirect(url_for("admin.user", user_id=target.id))


@bp.route("/admin/utilisateurs/<int:user_id>/debloquer", methods=["POST"])
def unlock(user_id):
    target, _r, _m = _action(user_id, svc.unlock_user, None)
    flash(_("Compte débloqué."), "success")
    return redirect(url_for("admin.user", user_id=target.id))


@bp.route("/admin/utilisateurs/<int:user_id>/double-facteur", methods=["POST"])
def reset_totp(user_id):
    target, _r, _m = _action(user_id, svc.reset_totp, None)
    flash(_("Double facteur retiré : la personne peut en enrôler un nouveau."), "success")
    return redirect(url_for("admin.user", user_id=target.id))


@bp.route("/admin/utilisateurs/<int:user_id>/jetons/<int:token_id>/revoquer", methods=["POST"])
def revoke_user_token(user_id, token_id):
    target, _r, _m = _action(user_id, lambda a, u: revoke_token(get_user_token(u, token_id), a),
                             None)
    flash(_("Jeton d'API révoqué."), "success")
    return redirect(url_for("admin.user", user_id=target.id))


@bp.route("/admin/utilisateurs/<int:user_id>/identifiants", methods=["POST"])
def credentials(user_id):
    """A new invitation link or a temporary password, shown once."""
    mode = request.form.get("mode")
    apply = svc.set_temporary_password if mode == "temporary" else svc.reissue_invitation
    target, secret, _m = _action(user_id, apply, None)
    link = url_for("admin.accept", token=secret, _external=True) if mode != "temporary" else None
    return render_template("admin/credentials.html", user=target, link=link,
                           password=secret if mode == "temporary" else None)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@public
def accept(token):
    target = svc.user_for_invitation(token)
    if target is None:
        return render_template("admin/invitation_invalid.html"), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        svc.accept_invitation(target, form.new.data)
        sign_in(target)
        db.session.commit()
        flash(_("Mot de passe enregistré. Bienvenue."), "success")
        return redirect(url_for("auth.home"))
    return render_template("admin/accept.html", form=form,
                           target=target), 422 if form.errors else 200


@bp.route("/compte/double-facteur", methods=["GET", "POST"])
@allow("manager", "admin")
def totp():
    user = _admin()
    form = TotpForm()
    if form.validate_on_submit():
        try:
            confirm_identity(user, form.password.data, form.current_code.data, request.remote_addr)
        except Refused as refused:
            db.session.commit()  # the failure and its delay
            form.password.errors.append(refused.message)
            return _totp_page(user, form), refused.status
        if svc.enrol_totp(user, form.secret.data, form.code.data):
            db.session.commit()
            flash(_("Double facteur activé : le code sera demandé à chaque connexion."), "success")
            return redirect(url_for("auth.home"))
        db.session.commit()  # the current code is used up even when the new one is wrong
        form.code.errors.append(_("Code incorrect : vérifiez l'heure du téléphone et réessayez."))
    return _totp_page(user, form), 422 if form.errors else 200


def _totp_page(user, form):
    secret = form.secret.data if form.secret.data and form.errors else svc.new_totp_secret()
    form.secret.data = secret
    return render_template("admin/totp.html", form=form, secret=secret,
                           uri=svc.totp_uri(user, secret), enrolled=bool(user.totp_secret))


@bp.route("/admin/journal")
def audit():
    form = AuditFilterForm(request.args)
    form.action.choices = [SelectChoice("", _("Toutes"))] + [
        SelectChoice(a, label("audit_action", a))
       for a in svc.audit_actions()]
    valid = form.validate()
    events = svc.audit_events(_admin(), form.action.data, form.email.data, form.start.data,
                              form.end.data) if valid else []
    return render_template("admin/audit.html", form=form, events=events), 200 if valid else 422


@bp.app_context_processor
def _lookup_alerts():
    """Unusual volumes of person-code lookups, shown on every page of an admin (issue 18)."""
    from ..access import organisation_scope
    from ..contacts.lookups import recent_alerts
    if not (current_user.is_authenticated and current_user.role == "admin"):
        return {}
    return {"lookup_alerts": recent_alerts(organisation_scope(current_user))}
