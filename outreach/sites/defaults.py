"""Default site types and the named sites of DOMAIN.md (seed data: codes stable, labels editable).

Coordinates are approximate (WGS 84), for the map only.
"""
SITE_TYPES = [
    # code, French label, English label
    ("consommation", "Lieu de consommation", "Drug use site"),
    ("deal", "Lieu de deal", "Dealing site"),
    ("campement", "Campement", "Camp"),
    ("abords_structure", "Abords d'une structure", "Surroundings of a facility"),
    ("autre", "Autre", "Other"),
]

SITES = [
    # code, name, type, arrondissement, sector, active from (ISO date or None), latitude, longitude
    ("stalingrad", "Stalingrad", "consommation", 19, "stalingrad", None, 48.8843, 2.3680),
    ("eole", "Jardins d'Éole", "consommation", 18, "eole", None, 48.8878, 2.3625),
    ("chapelle", "Porte de la Chapelle", "campement", 18, "chapelle", None, 48.8985, 2.3595),
    ("rosa_parks", "Rosa Parks", "deal", 19, "rosa_parks", None, 48.8960, 2.3735),
    ("forceval", "Forceval / Porte de la Villette", "campement", 19, "forceval", "2021-09-24",
     48.8985, 2.3860),
    ("jaures", "Jaurès / quai de Jemmapes", "deal", 19, "jaures", None, 48.8815, 2.3700),
    ("lariboisiere", "Abords de Lariboisière", "abords_structure", 10, "barbes", None,
     48.8825, 2.3525),
    ("marx_dormoy", "Marx Dormoy", "consommation", 18, "marx_dormoy", None, 48.8905, 2.3600),
    ("belleville", "Belleville", "deal", 20, "belleville", None, 48.8720, 2.3790),
    ("porte_bagnolet", "Porte de Bagnolet", "campement", 20, "porte_bagnolet", None, 48.8640,
     2.4085),
]
