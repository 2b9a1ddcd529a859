"""What the sign-off forms post: a comment (return) or a reason (reopening), checked by the services."""
from flask_babel import lazy_gettext as _l

FIELD_LABELS = {"month": _l("Mois"), "comment": _l("Commentaire pour l'organisation"),
                "reason": _l("Motif de la réouverture")}


def posted_text(form, name):
    return (form.get(name) or "").strip()
