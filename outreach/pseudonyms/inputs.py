"""The code inputs, defined once: which letter, which name, which date, which sex coding, and an
example.

The logging and edit forms take their labels and help from here, the privacy page its list, the API
documentation the description of ``person`` (api/write_doc.py), and the README ("Pseudonym codes")
quotes the same French words; tests/test_pseudonyms_wording.py compares the four. Sex is asked once,
with the letters of the code (F, M, X): the contact's sex is the code's."""


def N_(text):
    """Marks a French msgid for extraction (Babel's default keyword); translated where it is
    shown."""
    return text


# (form field, label, help)
INPUTS = (
    (
        "pseudo_initial",
        N_("Initiale du nom"),
        N_("première lettre du nom de famille (ou du nom de rue)"),
    ),
    ("pseudo_name", N_("Prénom ou surnom"), N_("prénom, ou nom de rue")),
    (
        "pseudo_birth",
        N_("Naissance"),
        N_("année (AAAA), ou date complète (JJ/MM/AAAA) si elle est donnée"),
    ),
    ("sex", N_("Sexe"), N_("F femme, M homme, X autre ou non précisé")),
)
EXAMPLE = N_("Exemple : Karim Dupont, né en 1984, homme : D, Karim, 1984, M.")
SEX_LETTERS = (("f", "F"), ("m", "M"), ("x", "X"))  # the contact's sex codes and the code's letters


def sentences():
    """Every input as "label : help", then the example (French; the API documentation and the
    README)."""
    return [f"{label} : {help_}" for _field, label, help_ in INPUTS] + [EXAMPLE]
