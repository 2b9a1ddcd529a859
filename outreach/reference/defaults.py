"""Default reference lists (DOMAIN.md). Codes are stable slugs; labels are editable by an admin.

Each entry: (code, French label, English label[, unit]). ``FREQUENT`` lists the
codes shown as large chips first on the phone form.
"""

SECTORS = [
    # code, label, district
    ("stalingrad", "Stalingrad", "19e"),
    ("jaures", "Jaurès / quai de Jemmapes", "19e"),
    ("eole", "Jardins d'Éole", "18e"),
    ("chapelle", "Porte de la Chapelle", "18e"),
    ("rosa_parks", "Rosa Parks / Macdonald", "19e"),
    ("forceval", "Forceval / Porte de la Villette", "19e"),
    ("barbes", "Barbès / La Chapelle", "18e"),
    ("marx_dormoy", "Marx Dormoy", "18e"),
    ("belleville", "Belleville", "20e"),
    ("porte_bagnolet", "Porte de Bagnolet", "20e"),
    ("autre", "Autre", ""),
]

LISTS = {
    "living_situation": [
        ("rue", "Rue", "Street"),
        ("squat", "Squat / campement", "Squat / camp"),
        ("hotel", "Hôtel / mise à l'abri", "Hotel / sheltering"),
        ("urgence", "Hébergement d'urgence", "Emergency shelter"),
        ("insertion", "Hébergement d'insertion", "Reintegration housing"),
        ("tiers", "Chez un tiers", "With a third party"),
        ("logement", "Logement", "Housing"),
        ("hopital", "Hôpital / soins", "Hospital / care"),
        ("incarceration", "Incarcération récente", "Recent incarceration"),
        ("inconnu", "Inconnu", "Unknown"),
    ],
    "product": [
        ("crack", "Crack fumé", "Smoked crack"),
        ("cocaine_basee", "Cocaïne basée", "Freebase cocaine"),
        ("cocaine_injectee", "Cocaïne injectée", "Injected cocaine"),
        ("opioides", "Opioïdes", "Opioids"),
        ("medicaments", "Médicaments détournés", "Diverted medicines"),
        ("alcool", "Alcool", "Alcohol"),
        ("autre", "Autre", "Other"),
    ],
    "need": [
        ("hebergement", "Hébergement", "Shelter"),
        ("soins_somatiques", "Soins somatiques", "Physical care"),
        ("soins_psy", "Soins psychiatriques", "Psychiatric care"),
        ("addictologie", "Addictologie", "Addiction care"),
        ("droits", "Droits / papiers", "Rights / papers"),
        ("alimentation", "Alimentation", "Food"),
        ("hygiene", "Hygiène", "Hygiene"),
        ("ecoute", "Écoute", "Listening"),
    ],
    "material": [
        ("kit_base", "Kit base", "Base kit", "kit"),
        ("pipe", "Pipe seule", "Pipe only", "pipe"),
        ("embouts", "Embouts", "Mouthpieces", "embout"),
        ("filtres", "Filtres / grilles", "Filters / screens", "filtre"),
        ("baume", "Baume à lèvres", "Lip balm", "tube"),
        ("steribox", "Kit d'injection (Stéribox)", "Injection kit (Stéribox)", "kit"),
        ("seringues", "Seringues", "Syringes", "seringue"),
        ("garrots", "Garrots", "Tourniquets", "garrot"),
        ("naloxone", "Naloxone (Prenoxad / Nalscue)", "Naloxone", "kit"),
        ("preservatifs", "Préservatifs", "Condoms", "préservatif"),
        ("kit_hygiene", "Kit hygiène", "Hygiene kit", "kit"),
        ("collation", "Collation / eau", "Snack / water", "portion"),
        ("couverture", "Couverture", "Blanket", "couverture"),
    ],
    "destination": [
        ("csapa", "CSAPA", "CSAPA"),
        ("caarud", "CAARUD", "CAARUD"),
        ("scmr", "SCMR / halte soins addictions", "Supervised consumption room"),
        ("espace_repos", "Espace de repos", "Rest space"),
        ("urgences_pass", "Urgences / PASS hospitalière", "Emergency / hospital PASS"),
        ("empp", "EMPP (psychiatrie mobile)", "Mobile psychiatry team"),
        ("medecin", "Médecin généraliste / centre de santé", "GP / health centre"),
        ("dentaire", "Dentaire", "Dental"),
        ("droits", "Droits (domiciliation, AME/PUMa, CCAS)", "Rights (address, health cover)"),
        ("hygiene", "Hygiène (bains-douches)", "Hygiene (public baths)"),
        ("alimentation", "Alimentation", "Food"),
        ("autre", "Autre", "Other"),
    ],
    "programme": [
        ("assore", "ASSORE", "ASSORE"),
        ("phase", "PHASE", "PHASE"),
        ("siao_115", "115 / SIAO", "115 / SIAO"),
        ("lhss_lam", "LHSS / LAM", "LHSS / LAM"),
        ("espace_repos", "Espace de repos", "Rest space"),
        ("logement_accompagne", "Logement accompagné / pension de famille",
         "Supported long-stay housing"),
    ],
    "refusal_reason": [
        ("pas_de_place", "Pas de place disponible", "No place available"),
        ("hors_criteres", "Hors critères", "Outside criteria"),
        ("refus_personne", "Refus de la personne", "Declined by the person"),
        ("injoignable", "Personne injoignable / perdue de vue", "Unreachable / lost to follow-up"),
        ("autre", "Autre", "Other"),
    ],
    "exit_reason": [
        ("relais", "Relais vers une autre structure", "Handed over to another service"),
        ("logement_stable", "Logement / hébergement stable", "Stable housing"),
        ("hospitalisation", "Hospitalisation", "Hospitalisation"),
        ("incarceration", "Incarcération", "Incarceration"),
        ("depart", "Départ de la région", "Left the region"),
        ("deces", "Décès", "Death"),
        ("perdu_de_vue", "Perdu de vue", "Lost to follow-up"),
        ("autre", "Autre", "Other"),
    ],
}

FREQUENT = {
    "material": {"kit_base", "pipe", "embouts", "naloxone", "collation"},
    "destination": {"csapa", "caarud", "scmr", "urgences_pass"},
    "programme": {"assore", "phase", "siao_115"},
    "product": {"crack"},
}

# The exit reason that counts as "exit to stable housing" in the pathway funnel.
STABLE_HOUSING_EXIT = "logement_stable"
# The refusal reason the audit asks to always record.
NO_PLACE_REFUSAL = "pas_de_place"
