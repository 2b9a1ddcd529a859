"""The one home of every label shown for a stored code: statuses, kinds, roles, audit actions and
targets.

Templates call ``label(family, code)`` (a Jinja global) and exports call ``label()`` here, so the
interface never shows an internal code ("closed", "contact.correct", "users 12") and a new code gets
its French label (English in English) in one place. Unknown codes fall back to the code itself.
"""
from datetime import datetime

from flask_babel import format_date, format_datetime
from flask_babel import lazy_gettext as _l

from .extensions import db
from .models import (
    Contact,
    Organisation,
    Referral,
    RefItem,
    Sector,
    Shift,
    Team,
    User,
    utcnow,
)

SHIFT_STATUS = {"open": _l("ouverte"), "closed": _l("clôturée"), "validated": _l("validée")}
CONTACT_KIND = {"known": _l("Personne"), "anonymous": _l("Passage anonyme"), "refusal": _l("Refus")}
SEX = {"f": _l("Femme"), "m": _l("Homme"), "x": _l("Autre / non précisé")}
AGE_BAND = {"u18": _l("moins de 18 ans"), "18_25": _l("18-25 ans"), "26_35": _l("26-35 ans"),
            "36_45": _l("36-45 ans"), "46_55": _l("46-55 ans"), "o55": _l("plus de 55 ans"),
            "unknown": _l("âge inconnu")}
REFERRAL_STATUS = {"proposed": _l("Proposée"), "accepted": _l("Acceptée"), "refused": _l("Refusée"),
                   "admitted": _l("Admise"), "exited": _l("Sortie")}
ROLE = {"worker": _l("Intervenant·e"), "supervisor": _l("Coordinateur·rice"),
        "manager": _l("Pilote du plan"), "admin": _l("Administrateur·rice")}
ACTION_STATUS = {"not_started": _l("Non démarrée"), "started": _l("Démarrée"),
                 "partly_done": _l("Réalisée en partie"), "done": _l("Réalisée"),
                 "abandoned": _l("Abandonnée")}
AMBIANCE = {"calme": _l("calme"), "tendue": _l("tendue"), "agitee": _l("agitée")}
MONTH_STATE = {"provisional": _l("Provisoire"), "signed_off": _l("Signé"),
               "accepted": _l("Accepté"), "returned": _l("Renvoyé")}
AUDIT_ACTION = {
    "login": _l("Connexion"), "login_failed": _l("Échec de connexion"),
    "login_refused_locked": _l("Connexion refusée (compte verrouillé)"),
    "account_locked": _l("Compte verrouillé"),
    "password_changed": _l("Mot de passe changé"), "user_invited": _l("Compte créé"),
    "invitation_sent": _l("Lien d'invitation envoyé"),
    "invitation_accepted": _l("Invitation acceptée"),
    "temporary_password_set": _l("Mot de passe temporaire donné"),
    "role_changed": _l("Rôle changé"),
    "teams_changed": _l("Équipes changées"), "user_enabled": _l("Compte réactivé"),
    "user_disabled": _l("Compte désactivé"), "user_unlocked": _l("Compte débloqué"),
    "totp_enrolled": _l("Double facteur activé"), "totp_reset": _l("Double facteur retiré"),
    "shift.validate": _l("Maraude validée"), "shift.unvalidate": _l("Validation retirée"),
    "contact.correct": _l("Contact corrigé"), "contact.edit": _l("Contact modifié"),
    "referral.undo_step": _l("Étape d'orientation annulée"),
    "reference_added": _l("Élément de liste ajouté"),
    "reference_changed": _l("Élément de liste modifié"),
    "export.contacts": _l("Export des contacts"),
    "export.indicators": _l("Export des indicateurs"),
    "export.snapshot": _l("Export des données ouvertes"),
    "import.contacts": _l("Import de contacts"), "purge": _l("Purge des données anciennes"),
    "pseudonym_key_rotated": _l("Clé des codes pseudonymes renouvelée"),
    "contact.delete": _l("Contact supprimé"), "contact.late": _l("Contact arrivé après la clôture"),
    "device.clock": _l("Horloge d'un téléphone corrigée"),
    "login_delayed": _l("Connexion retardée"),
    "reauth_failed": _l("Échec de confirmation d'identité"),
    "token_revoked": _l("Jeton d'API révoqué"),
    "totp_changed": _l("Double facteur changé"), "plan_imported": _l("Plan importé"),
    "budget.save": _l("Ligne budgétaire enregistrée"), "capacity.record": _l("Places enregistrées"),
    "estimate.record": _l("Estimation de population enregistrée"),
    "export.plan_card": _l("Export du tableau du plan"),
    "milestone.add": _l("Jalon ajouté"), "milestone.done": _l("Jalon réalisé"),
    "site_added": _l("Site ajouté"), "site_changed": _l("Site modifié"),
    "site_observation_recorded": _l("Observation de site enregistrée"),
    "shift_partners_changed": _l("Partenaires d'une maraude changés"),
    "coordination_meeting_recorded": _l("Réunion de coordination enregistrée"),
    "coordination_decision_added": _l("Décision de coordination ajoutée"),
    "coordination_decision_done": _l("Décision de coordination suivie"),
    "month.sign_off": _l("Mois signé"), "month.accept": _l("Mois accepté"),
    "month.return": _l("Mois renvoyé pour correction"), "month.reopen": _l("Mois rouvert"),
    "referral.handover_sent": _l("Orientation transmise à une autre organisation"),
    "referral.handover_received": _l("Orientation reçue d'une autre organisation"),
    # rows written before site types and partners became reference lists (reference_added/_changed)
    "site_type_added": _l("Type de site ajouté"), "site_type_changed": _l("Type de site modifié"),
    "partner_added": _l("Partenaire ajouté"), "partner_changed": _l("Partenaire modifié"),
}
AUDIT_TARGET = {"users": _l("Compte"), "shifts": _l("Maraude"), "contacts": _l("Contact"),
                "referrals": _l("Orientation hébergement"), "organisations": _l("Organisation"),
                "ref_items": _l("Élément de liste"), "sectors": _l("Secteur"),
                "teams": _l("Équipe"),
                "month_signoffs": _l("Mois"), "referral_handovers": _l("Orientation transmise"),
                "site_types": _l("Type de site"), "partners": _l("Partenaire"), "sites": _l("Site")}
FIELD = {
    "status": _l("État"), "role": _l("Rôle"), "teams": _l("Équipes"), "kind": _l("Type de contact"),
    "occurred_at": _l("Heure"), "sector": _l("Secteur"), "sector_id": _l("Secteur"),
    "people_count": _l("Nombre de personnes"), "sex": _l("Sexe"), "age_band": _l("Tranche d'âge"),
    "living_situation": _l("Situation de logement"),
    "living_situation_id": _l("Situation de logement"),
    "products": _l("Produits"), "needs": _l("Besoins"), "materials": _l("Matériel donné"),
    "orientations": _l("Orientations"), "referrals": _l("Orientations hébergement"),
    "person": _l("Code personne"),
    "label": _l("Libellé"), "label_en": _l("Libellé anglais"), "position": _l("Ordre"),
    "is_active": _l("Actif"),
    # the correction form's own fields
    "material": _l("Matériel"), "field": _l("Champ"), "value": _l("Nouvelle valeur"),
    "reason": _l("Motif"), "summary": _l("Synthèse"),
    # the referral step, handover, sign-off and tally forms' fields
    "occurred_on": _l("Date"), "programme": _l("Dispositif"),
    "undo_reason": _l("Motif de l'annulation"),
    "to_organisation": _l("Organisation qui reprend l'orientation"),
    "handed_over_on": _l("Date de transmission"), "month": _l("Mois"),
    "comment": _l("Commentaire pour l'organisation"), "tally": _l("Compteur"),
    "contact": _l("Contact"), "shift_id": _l("Maraude"),
}
DETAIL = {"ip": _l("adresse IP"), "teams": _l("équipes"), "view": _l("vue"), "format": _l("format"),
          "from": _l("du"), "to": _l("au"), "filters": _l("filtres"), "rows": _l("lignes"),
          "source": _l("fichier"), "created": _l("créés"), "cutoff": _l("date limite"),
          "path": _l("fichier"),
          "code": _l("code"), "failures": _l("échecs"), "email": _l("adresse saisie"),
          "persons": _l("personnes"), "contacts": _l("contacts"),
          "referrals": _l("orientations hébergement"),
          "layers": _l("couches de clé"), "old_fingerprint": _l("empreinte de l'ancienne clé"),
          "new_fingerprint": _l("empreinte de la nouvelle clé"),
          "organisation_id": _l("organisation"),
          "team_id": _l("équipe"), "sector_id": _l("secteur"),
          "include_provisional": _l("données provisoires"),
          "month": _l("mois"), "to_organisation": _l("vers"), "from_organisation": _l("de"),
          "handed_over_on": _l("le")}
EXPORT_VIEW = {"dashboard": _l("tableau de bord"), "funnel": _l("parcours"),
               "indicator": _l("indicateur")}

FAMILIES = {
    "shift_status": SHIFT_STATUS, "contact_kind": CONTACT_KIND, "sex": SEX, "age_band": AGE_BAND,
    "referral_status": REFERRAL_STATUS, "role": ROLE, "action_status": ACTION_STATUS,
    "ambiance": AMBIANCE,
    "audit_action": AUDIT_ACTION, "audit_target": AUDIT_TARGET, "field": FIELD, "detail": DETAIL,
    "export_view": EXPORT_VIEW, "month_state": MONTH_STATE,
}
# Audited fields whose values are codes of a family above.
VALUE_FAMILY = {"kind": "contact_kind", "sex": "sex", "age_band": "age_band", "role": "role"}
# Audited fields holding codes (comma-separated) of a reference list.
REFERENCE_FIELD = {"sector": "sector", "living_situation": "living_situation",
                   "products": "product",
                   "needs": "need", "materials": "material", "orientations": "destination",
                   "referrals": "programme"}


def label(family, code):
    """The label of ``code`` in ``family`` (a key of FAMILIES) as text; the code itself when
    unknown."""
    if code is None:
        return ""
    found = FAMILIES[family].get(code)
    return str(found) if found is not None else str(code)


def codes(family):
    """Every code of a family (tests look for them in the pages)."""
    return tuple(FAMILIES[family])


def paris_datetime(naive_utc, style="short"):
    """A stored naive-UTC datetime in Paris time (BABEL_DEFAULT_TIMEZONE), formatted by Babel for
    the language."""
    return format_datetime(naive_utc, style) if naive_utc else ""


def field_label(name):
    """Label of an audited or corrected field (``material-<id>``: the material's label)."""
    if not name:
        return ""
    ident = name.removeprefix("material-")
    if ident != name:
        item = db.session.get(RefItem, int(ident)) if ident.isdigit() else None
        return item.display_label if item else str(FIELD["materials"])
    return label("field", name)


# A form whose field means something else than the audited field of that name.
FORM_FIELD = {"referral_step": {"status": _l("Étape")}}


def error_lines(errors, form=None):
    """[(field, its label, message)] of what ``form`` refused; a field with no label has an empty
    one (the message is shown alone: a field's code never reaches a screen)."""
    labels = {**FIELD, **FORM_FIELD.get(form, {})}
    return [(name, str(labels[name]) if name in labels else "", str(message))
            for name, message in errors.items()]


def errors_text(errors):
    """What a form refused on one line (a flash): "Date : La date ne peut pas être dans le
    futur."."""
    return " ".join(f"{text} : {message}" if text else message
                    for _n, text, message in error_lines(errors))


# Audit actions whose before/after are values of a field they do not name.
ACTION_FIELD = {"user_invited": "role"}


def audit_value(event, value):
    """Before/after of an audit event in words: labels of codes, names of teams, Paris times."""
    if value is None or value == "":
        return "∅"
    field = event.field or ACTION_FIELD.get(event.action, "")
    if event.action == "reference_added" and ":" in value:
        kind, _, code = value.partition(":")
        return _reference_label(kind, code)
    if field == "status":
        family = {"referrals": "referral_status",
                  "month_signoffs": "month_state"}.get(event.target_type)
        return label(family or "shift_status", value)
    if field in VALUE_FAMILY:
        return label(VALUE_FAMILY[field], value)
    if field in ("sector_id", "living_situation_id") and value.isdigit():
        return _reference_by_id(field, int(value))
    if field in REFERENCE_FIELD:
        return ", ".join(_reference_label(REFERENCE_FIELD[field], part)
                         for part in value.split(","))
    if field == "teams":
        return ", ".join(_team_name(code) for code in value.split(","))
    if field == "occurred_at":
        try:
            return paris_datetime(datetime.strptime(value, "%Y-%m-%d %H:%M"))
        except ValueError:
            return value
    if field == "is_active":
        return str(_l("oui") if value == "True" else _l("non"))
    return value


def audit_detail(key, value):
    """One detail of an audit event in words (team names, filter names, export views)."""
    if key == "teams" and isinstance(value, list):
        return ", ".join(_team_name(code) for code in value) or "∅"
    if key == "view" and isinstance(value, str):
        view, _, code = value.partition(":")
        return label("export_view", view) + (f" {code}" if code else "")
    if isinstance(value, dict):
        return ", ".join(f"{label('detail', k)} {audit_detail(k, v)}"
                         for k, v in value.items()) or "∅"
    if isinstance(value, bool):
        return str(_l("oui") if value else _l("non"))
    return str(value)


FILTER_LIST = {"material": "material", "programme": "programme", "destination": "destination",
               "product": "product", "need": "need", "living_situation": "living_situation",
               "sector": "sector"}
FILTER_NAME = {"material": _l("Matériel"), "programme": _l("Dispositif"),
               "destination": _l("Destination"),
               "product": _l("Produit"), "need": _l("Besoin"),
               "living_situation": _l("Situation de logement"), "sector": _l("Secteur")}


def describe_filters(filters):
    """An indicator's own filters in words: {"material": "kit_base"} -> "Matériel : Kit base"."""
    parts = []
    for key, value in (filters or {}).items():
        values = value if isinstance(value, list | tuple) else [value]
        shown = ", ".join(_filter_value(key, str(v)) for v in values)
        parts.append(f"{FILTER_NAME.get(key, key)} : {shown}")
    return " · ".join(parts)


def _filter_value(key, value):
    if key in FILTER_LIST:
        return _reference_label(FILTER_LIST[key], value)
    return label(VALUE_FAMILY[key], value) if key in VALUE_FAMILY else value


def _reference_by_id(field, ident):
    item = db.session.get(Sector if field == "sector_id" else RefItem, ident)
    return item.display_label if item else str(ident)


def _reference_label(kind, part):
    """``kit_base:2`` -> "Kit base ×2"; ``csapa+acc`` -> "CSAPA (accompagné·e)"; ``assore`` ->
    "ASSORE"."""
    code, _, quantity = part.partition(":")
    accompanied = code.endswith("+acc")
    code = code.removesuffix("+acc")
    from .models import (  # lists with a table of their own, as sectors (reference.editing)
        Partner,
        SiteType,
    )
    standalone = {"sector": Sector, "site_type": SiteType, "partner": Partner}
    query = (db.select(standalone[kind]) if kind in standalone
             else db.select(RefItem).filter_by(kind=kind))
    item = db.session.execute(query.filter_by(code=code)).scalars().first()
    text = item.display_label if item else code
    if quantity:
        text += f" ×{quantity}"
    if accompanied:
        text += f" ({_l('accompagné·e')})"
    return text


def _team_name(code):
    team = db.session.execute(db.select(Team).filter_by(code=code)).scalars().first()
    return team.name if team else code


def audit_actor(event):
    """Who acted, as an organisation's trail may show it: the user's e-mail; the name of the other
    organisation when the actor was one of its users (a handed-over referral, older rows included);
    "(système)" when nobody acted."""
    actor = event.actor
    if actor is None:
        sender = (event.details or {}).get("from_organisation")
        return str(_l("%(organisation)s (autre organisation)", organisation=sender)) if sender \
            else str(_l("(système)"))
    outsider = actor.organisation_id not in (None, event.organisation_id) \
        and actor.role in ("worker", "supervisor", "admin")
    if outsider:
        return str(
            _l("%(organisation)s (autre organisation)", organisation=actor.organisation.name))
    return actor.email


def audit_target(event):
    """What an audit event is about, in words: "Compte alice@…", "Maraude Maraude Nord (18e) · 3
    mars 2026"."""
    kind = event.target_type
    if not kind:
        return ""
    name = label("audit_target", kind)
    described = _describe(kind, event.target_id)
    return f"{name} {described}" if described else name


def _describe(kind, ident):
    from .site_models import Partner, SiteType
    model = {"users": User, "shifts": Shift, "contacts": Contact, "referrals": Referral,
             "organisations": Organisation, "ref_items": RefItem, "sectors": Sector, "teams": Team,
             "site_types": SiteType, "partners": Partner}.get(kind)
    if model is None or ident is None:
        return ""
    try:
        obj = db.session.get(model, int(ident) if ident.isdigit() else ident)
    except (ValueError, TypeError):
        obj = None
    if obj is None:
        return str(_l("(supprimé)"))
    if model is User:
        return obj.email
    if model is Shift:
        return f"{obj.team.name} · {format_date(obj.shift_on)}"
    if model is Contact:
        return f"{obj.team.name} · {paris_datetime(obj.occurred_at)}"
    if model is Referral:
        return f"{obj.programme.display_label} · {format_date(obj.proposed_on)}"
    if model in (Organisation, Team):
        return obj.name
    return obj.display_label


def init_app(app):
    app.jinja_env.globals.update(label=label, format_date=format_date, now_utc=utcnow,
                                 paris_datetime=paris_datetime,
                                 audit_value=audit_value, audit_target=audit_target,
                                 audit_actor=audit_actor, audit_field=field_label,
                                 error_lines=error_lines, audit_detail=audit_detail)
