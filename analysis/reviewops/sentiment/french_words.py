"""The word lists of the French lexicon scorer (`reviewops.sentiment.french`).

Written for this project from everyday French customer-review vocabulary (delivery, quality,
customer service, refunds, prices), on VADER's scale: about +-1 mild, +-2 clear, +-3 strong.
Keys are lowercase without accents: the scorer strips accents before looking up, so "déçu",
"decu" and "DÉÇU" meet the same entry, and tries a word without its plural "s"/"x" and
feminine "e" ("déçues" -> "decu"), so most adjectives need one entry.
"""

from __future__ import annotations

VALENCE: dict[str, float] = {
    # --- positive: satisfaction, quality, speed, service
    "accueillant": 1.5, "adore": 2.5, "adorer": 2.5, "agreable": 1.8, "aimable": 1.8,
    "ameliore": 0.8, "apprecie": 1.6, "avantageux": 1.4, "efficace": 1.9, "efficacite": 1.7,
    "bien": 1.2, "bon": 1.5, "bonne": 1.5, "bonheur": 2.3, "bravo": 2.5, "beau": 1.5,
    "belle": 1.5, "chaleureux": 1.8, "chouette": 1.8, "clair": 0.9, "competent": 1.6,
    "confiance": 1.6, "conforme": 1.5, "content": 1.9, "contente": 1.9, "courtois": 1.5,
    "correct": 0.8, "cool": 1.3, "ecoute": 0.8, "enchante": 2.2, "excellent": 3.0,
    "excellente": 3.0, "exceptionnel": 2.8, "facile": 1.4, "facilement": 1.1, "fiable": 1.7,
    "fidele": 1.2, "formidable": 2.8, "genial": 2.8, "geniale": 2.8, "gentil": 1.6,
    "gentille": 1.6, "heureux": 2.2, "heureuse": 2.2, "impeccable": 2.8, "irreprochable": 2.6,
    "joli": 1.4, "merci": 1.5, "merveilleux": 2.8, "nickel": 2.5, "parfait": 3.0,
    "parfaite": 3.0, "parfaitement": 2.2, "pratique": 1.2, "professionnel": 1.6,
    "professionnalisme": 1.8, "qualite": 1.2, "rapide": 1.8, "rapidement": 1.5,
    "rapidite": 1.8, "ravi": 2.5, "ravie": 2.5, "reactif": 1.8, "reactivite": 1.8,
    "recommande": 2.2, "recommandons": 2.2, "recommanderai": 2.2, "recommander": 2.0,
    "recommanderais": 2.0, "reussi": 1.6, "satisfait": 2.0, "satisfaite": 2.0,
    "satisfaction": 2.0, "serieux": 1.6, "serieuse": 1.6, "simple": 1.0, "soigne": 1.5,
    "soignee": 1.5, "sympa": 1.7, "sympathique": 1.7, "super": 2.3, "top": 2.4, "superbe": 2.6,
    "magnifique": 2.6, "fantastique": 2.8, "extra": 2.0, "remarquable": 2.4, "solide": 1.2,
    "soulage": 1.2, "tranquille": 1.0, "utile": 1.2, "vite": 1.2, "aise": 0.8,
    "economique": 1.0, "attentionne": 1.6, "agreablement": 1.8, "ponctuel": 1.4,
    "fonctionne": 1.0, "marche": 0.6, "resolu": 1.4, "rembourse": 1.0, "aide": 1.0,
    "fluide": 1.3, "intuitif": 1.4, "bluffant": 2.2, "incroyable": 1.8, "convaincu": 1.8,
    "avantages": 1.0, "promo": 0.8, "promotion": 0.8, "choix": 0.6, "variete": 0.8,
    "qualitatif": 1.5, "meilleur": 2.0, "meilleure": 2.0, "mieux": 1.0, "bonnes": 1.5,
    "plaisir": 2.0, "fan": 1.8, "ok": 0.6, "okay": 0.6, "correctement": 0.9,
    "felicitations": 2.5, "excellentissime": 3.2, "recommandable": 2.0,
    # --- negative: disappointment, delay, defects, fraud, bad service
    "abusif": -2.0, "absurde": -1.6, "agace": -1.6, "annule": -1.3, "annulation": -1.2,
    "arnaque": -3.2, "arnaqueur": -3.2, "attendre": -0.6, "bidon": -2.2,
    "bloque": -1.4, "cafouillage": -1.8, "casse": -1.8, "catastrophe": -3.0,
    "catastrophique": -3.0, "cher": -0.8, "chere": -0.8, "colere": -2.2, "complique": -1.4,
    "compliquee": -1.4, "contrefacon": -2.6, "danger": -1.8, "decevant": -2.4,
    "decevante": -2.4, "deception": -2.5, "decu": -2.4, "decue": -2.4, "defaut": -1.6,
    "defectueux": -2.3, "defectueuse": -2.3, "degoute": -2.8, "deplorable": -2.8,
    "desagreable": -2.0, "desastre": -3.0, "desastreux": -3.0, "desespere": -2.3,
    "desole": -0.8, "difficile": -1.3, "difficilement": -1.1, "douteux": -1.6,
    "dommage": -1.4, "echec": -2.0, "echange": -0.3, "effroyable": -3.0, "endommage": -2.2,
    "enerve": -2.2, "erreur": -1.5, "escroc": -3.2, "escroquerie": -3.2, "fache": -2.2,
    "faux": -1.4, "fausse": -1.4, "fiasco": -2.8, "fuir": -2.6, "galere": -2.2,
    "honte": -2.8, "honteux": -2.8, "horrible": -3.0, "ignoble": -3.0, "impoli": -2.0,
    "impossible": -1.8, "inacceptable": -2.8, "inadmissible": -2.8, "incompetent": -2.4,
    "incompetence": -2.4, "inexistant": -2.2, "injoignable": -2.4, "inutile": -1.8,
    "irrespectueux": -2.4, "lamentable": -2.9, "lent": -1.5, "lente": -1.5,
    "lenteur": -1.7, "litige": -1.8, "mal": -1.5, "malheureusement": -1.5, "manque": -1.3,
    "manquant": -1.6, "mauvais": -2.2, "mauvaise": -2.2, "mecontent": -2.3,
    "mecontente": -2.3, "mediocre": -2.2, "mensonge": -2.6, "menteur": -2.6, "mepris": -2.4,
    "minable": -2.6, "moche": -1.6, "moyen": -0.6, "moyenne": -0.6, "navrant": -2.4,
    "nul": -2.8, "nulle": -2.8, "nuls": -2.8, "panne": -1.9, "perdu": -1.4, "perte": -1.5,
    "pire": -2.8, "plainte": -1.8, "pourri": -2.6, "probleme": -1.5, "problemes": -1.5,
    "rate": -1.4, "regret": -1.8, "regrette": -1.8, "remboursement": -0.4,
    "reclamation": -1.4, "retard": -1.7, "retarde": -1.5, "rupture": -1.0, "scandale": -3.0,
    "scandaleux": -3.0, "souci": -1.3, "soucis": -1.3, "stress": -1.6, "triste": -1.8,
    "tromperie": -2.8, "trompe": -2.0, "vol": -2.4, "voleur": -3.0, "voleurs": -3.0,
    "vole": -2.4, "rembourser": -0.2, "fraude": -3.0, "frauduleux": -3.0,
    "ridicule": -2.2, "insupportable": -2.6, "incomprehensible": -1.8, "aberrant": -2.4,
    "absence": -1.0, "bug": -1.6, "bugs": -1.6, "abime": -2.0, "abimee": -2.0,
    "rayure": -1.4, "rayures": -1.4, "sale": -1.8, "use": -1.2, "fragile": -1.2,
    "deconseille": -2.6, "deconseiller": -2.4, "eviter": -2.0, "evitez": -2.4,
    "mensonger": -2.6, "trompeur": -2.4, "trompeuse": -2.4, "harcelement": -2.6,
    "spam": -1.6, "relance": -0.6, "relances": -0.6, "helas": -1.5,
    "pitoyable": -2.8, "incapable": -2.2, "inefficace": -2.2,
    "inadapte": -1.6, "insatisfait": -2.3, "insatisfaite": -2.3, "irresponsable": -2.4,
    "lache": -1.8, "louche": -1.8, "malhonnete": -2.8, "odieux": -2.8, "penible": -2.0,
    "plaindre": -1.4, "refus": -1.6, "refuse": -1.6, "zero": -1.8,
}

# A word and the next one read together ("pas terrible" is not "terrible" negated).
PHRASES: dict[tuple[str, ...], float] = {
    ("pas", "terrible"): -1.6,
    ("a", "fuir"): -2.9,
    ("a", "eviter"): -2.6,
    ("rien", "a", "redire"): 2.4,
    ("rien", "a", "dire"): 1.8,
    ("au", "top"): 2.6,
    ("bon", "plan"): 2.0,
    ("bonne", "affaire"): 2.0,
    ("n", "importe", "quoi"): -2.2,
    ("aucune", "reponse"): -2.2,
    ("sans", "reponse"): -2.2,
    ("pas", "de", "reponse"): -2.2,
    ("jamais", "recu"): -2.6,
    ("pas", "recu"): -2.2,
    ("toujours", "pas"): -1.6,
    ("service", "client"): 0.0,
    ("prise", "de", "tete"): -2.0,
    ("rapport", "qualite", "prix"): 0.6,
    ("comme", "neuf"): 1.8,
    ("comme", "prevu"): 1.2,
    ("dans", "les", "temps"): 1.2,
    ("en", "temps", "et", "en", "heure"): 1.6,
    ("temps", "record"): 1.8,
    ("fait", "le", "job"): 1.6,
    ("plus", "jamais"): -2.4,
}

# Words that turn the polarity of the next few words around.
NEGATORS: frozenset[str] = frozenset(
    {"ne", "n", "pas", "jamais", "aucun", "aucune", "rien", "ni", "sans", "non", "guere",
     "nullement", "peu"}
)

# Words that strengthen (> 0) or soften (< 0) the next sentiment word, on VADER's scale.
BOOSTERS: dict[str, float] = {
    "tres": 0.293, "trop": 0.293, "vraiment": 0.293, "tellement": 0.293, "super": 0.293,
    "hyper": 0.293, "ultra": 0.293, "extremement": 0.293, "totalement": 0.293,
    "completement": 0.293, "absolument": 0.293, "particulierement": 0.293,
    "incroyablement": 0.293, "franchement": 0.2, "vachement": 0.293, "si": 0.2,
    "aussi": 0.15, "tout": 0.15, "entierement": 0.293, "profondement": 0.293,
    "assez": -0.293, "plutot": -0.293, "moyennement": -0.293, "relativement": -0.293,
    "legerement": -0.293, "presque": -0.293, "quelque": -0.2,
}

# After "jamais" these make a comparison, not a negation: "jamais été aussi déçu".
COMPARATIVES: frozenset[str] = frozenset({"aussi", "si", "autant", "tant", "mieux", "plus"})

# Words that turn the review around: what follows weighs more than what came before.
CONTRASTS: frozenset[str] = frozenset({"mais", "cependant", "pourtant", "toutefois", "neanmoins"})

EMOJI: dict[str, float] = {
    "👍": 1.8, "👏": 2.0, "😊": 2.0, "🙂": 1.5, "😀": 2.0, "😃": 2.0, "😄": 2.0, "😍": 2.6,
    "🥰": 2.6, "❤": 2.4, "💯": 2.2, "⭐": 1.2, "👎": -2.0, "😡": -2.8, "😠": -2.4,
    "🤬": -3.0, "😤": -2.0, "😞": -2.0, "😢": -2.0, "😭": -2.2, "😒": -1.6, "🙁": -1.6,
    "☹": -1.8, "💩": -2.6,
}
