"""Synthetic French e-commerce reviews with star ratings, to train French sentiment models.

The demo dataset (`reviewops.demo`) writes about one refurbished-electronics marketplace, in
long sentences, with few 3-star reviews. Real French reviews of online shops are shorter, speak
of any kind of goods and have a real "mixed" class (3 stars: "correct sans plus", good products
but slow delivery). This module writes such reviews from clause banks written for this project
(no third-party text): per aspect (delivery, product, customer service, returns and refunds,
prices, website) a positive, a negative and a lukewarm list, plus short overall verdicts.

How a review is built for its star rating:
- 5 stars: 1-3 positive clauses or verdicts; 4 stars: the same, sometimes with one mild
  reservation ("livraison un peu longue");
- 3 stars: a lukewarm verdict or clause, or a positive and a negative clause joined by a
  contrast ("mais", "par contre");
- 2 stars: negative clauses, sometimes after one positive ("jolis articles mais ...");
- 1 star: 1-3 negative clauses or verdicts, sometimes a warning closer ("à fuir").
Then human noise: a title, casual lowercase, missing accents, doubled "!", a dropped letter.
Deterministic by seed: `generate_french_reviews(n, seed)` is the same on every machine.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

Tone = str  # "pos", "neg" or "mid"

ASPECTS: dict[str, dict[Tone, tuple[str, ...]]] = {
    "delivery": {
        "pos": (
            "livraison rapide",
            "colis reçu en {days} jours",
            "livré dans les temps",
            "colis bien emballé",
            "expédition très rapide",
            "livraison en point relais sans souci",
            "reçu avant la date prévue",
            "suivi de colis clair",
            "livraison soignée",
            "commande arrivée très vite",
            "délais respectés",
            "livraison gratuite et rapide",
        ),
        "neg": (
            "livraison beaucoup trop longue",
            "colis jamais reçu",
            "toujours pas reçu ma commande au bout de {weeks} semaines",
            "colis perdu par le transporteur",
            "délais de livraison interminables",
            "commande reçue incomplète",
            "livré avec {weeks} semaines de retard",
            "colis marqué livré alors que je n'ai rien reçu",
            "il manquait un article dans le colis",
            "colis arrivé ouvert",
            "aucune nouvelle de ma commande depuis {weeks} semaines",
            "la date de livraison a été repoussée plusieurs fois",
        ),
        "mid": (
            "livraison un peu longue",
            "délais de livraison assez longs",
            "livraison correcte",
            "il faut être patient pour la livraison",
            "colis reçu mais avec quelques jours de retard",
            "livraison dans la moyenne",
            "les délais sont longs mais le colis arrive",
        ),
    },
    "product": {
        "pos": (
            "articles conformes à la description",
            "produits de bonne qualité",
            "très belle qualité",
            "la taille correspond parfaitement",
            "articles magnifiques",
            "je suis ravie de mes achats",
            "vêtements de qualité",
            "produit conforme aux photos",
            "tout est parfait",
            "la marchandise est impeccable",
            "le produit fonctionne très bien",
            "des marques à petits prix",
        ),
        "neg": (
            "l'article ne correspond pas du tout à la photo",
            "qualité médiocre",
            "produit arrivé abîmé",
            "article défectueux",
            "la taille taille beaucoup trop petit",
            "mauvaise qualité pour le prix",
            "produit cassé à la réception",
            "on m'a envoyé le mauvais article",
            "les couleurs n'ont rien à voir avec le site",
            "article de très mauvaise qualité",
            "le produit ne marche pas",
            "matière bas de gamme",
        ),
        "mid": (
            "qualité correcte pour le prix",
            "produits corrects sans plus",
            "certains articles sont bien, d'autres moins",
            "qualité moyenne",
            "produit conforme mais sans plus",
            "la qualité est variable",
            "un article un peu décevant sur les deux",
        ),
    },
    "service": {
        "pos": (
            "service client réactif et aimable",
            "réponse rapide du service client",
            "problème réglé rapidement",
            "conseillère très gentille et efficace",
            "service client à l'écoute",
            "on m'a répondu dans la journée",
            "le service client a trouvé une solution",
        ),
        "neg": (
            "service client injoignable",
            "aucune réponse à mes mails",
            "service client inexistant",
            "des réponses automatiques qui ne règlent rien",
            "on me renvoie d'un service à l'autre",
            "service client désagréable",
            "personne pour m'aider",
            "j'ai relancé {times} fois sans réponse",
        ),
        "mid": (
            "service client lent à répondre mais problème finalement réglé",
            "il a fallu relancer plusieurs fois",
            "service client poli mais peu efficace",
            "le service client répond, lentement",
        ),
    },
    "refund": {
        "pos": (
            "remboursement reçu rapidement",
            "retour simple et gratuit",
            "échange sans problème",
            "remboursé en quelques jours",
            "retour très facile",
        ),
        "neg": (
            "toujours pas remboursé après {weeks} semaines",
            "retour payant et compliqué",
            "remboursement en bon d'achat au lieu d'argent",
            "refus de remboursement",
            "ils gardent l'argent et le produit",
            "remboursement partiel sans explication",
            "retour refusé alors que l'article était défectueux",
        ),
        "mid": (
            "remboursement un peu long mais effectué",
            "retour possible mais payant",
            "le remboursement a pris du temps",
        ),
    },
    "price": {
        "pos": (
            "prix très intéressants",
            "de très bonnes affaires",
            "promotions intéressantes",
            "rapport qualité prix excellent",
            "des prix imbattables",
            "belles réductions",
        ),
        "neg": (
            "prix plus chers qu'ailleurs",
            "frais de port exorbitants",
            "fausses promotions",
            "des prix qui ne valent pas la qualité",
            "frais cachés à la commande",
        ),
        "mid": (
            "prix corrects sans être exceptionnels",
            "des bonnes affaires mais pas toujours",
            "les frais de port sont un peu chers",
            "les prix ont augmenté",
        ),
    },
    "site": {
        "pos": (
            "site facile à utiliser",
            "commande simple et rapide",
            "application pratique",
            "paiement sécurisé et simple",
            "beaucoup de choix sur le site",
        ),
        "neg": (
            "le site bug sans arrêt",
            "paiement refusé plusieurs fois",
            "commande annulée sans explication",
            "compte bloqué sans raison",
            "article affiché disponible mais en rupture",
        ),
        "mid": (
            "site un peu confus mais on s'y retrouve",
            "l'application pourrait être plus simple",
            "des ventes intéressantes mais pas tous les jours",
        ),
    },
}

VERDICTS: dict[Tone, tuple[str, ...]] = {
    "pos": (
        "Très bien",
        "Parfait",
        "Rien à dire",
        "Top",
        "Super site",
        "Je recommande",
        "Toujours satisfaite",
        "Jamais déçue",
        "Très satisfait de ma commande",
        "Excellent",
        "Bon site",
        "Au top comme d'habitude",
        "Très contente",
        "Nickel",
        "Je suis ravi",
        "Très bonne expérience",
        "Comme toujours impeccable",
        "Rien à redire",
        "Cliente fidèle depuis des années",
        "Bravo",
        "Service parfait",
        "Satisfaite",
        "Très bon site",
        "Super",
        "Je recommande vivement",
        "Efficace",
    ),
    "neg": (
        "À fuir",
        "Arnaque",
        "Plus jamais",
        "Très déçue",
        "Je ne recommande pas",
        "Honteux",
        "Inadmissible",
        "Service lamentable",
        "Je ne commanderai plus",
        "Scandaleux",
        "Très mauvaise expérience",
        "Déçu",
        "Catastrophique",
        "Fuyez",
        "Nul",
        "Une honte",
        "Jamais plus",
        "Lamentable",
        "Déçue de ce site",
        "Mauvais service",
    ),
    "mid": (
        "Moyen",
        "Correct",
        "Peut mieux faire",
        "Mitigé",
        "Bien sans plus",
        "Pas mal",
        "Avis mitigé",
        "Ça dépend des fois",
        "Ni bon ni mauvais",
        "Correct dans l'ensemble",
        "Assez satisfaite",
        "Des hauts et des bas",
        "Bof",
        "Moyennement satisfait",
        "Plutôt bien mais",
        "Pas terrible mais pas catastrophique",
        "Satisfaite à moitié",
        "Peut mieux faire sur certains points",
        "Un peu déçue",
        "Correct sans plus",
        "Bien mais pas top",
        "Ok",
        "Expérience mitigée",
    ),
}

OPENERS: tuple[str, ...] = (
    "Commande passée le mois dernier.",
    "Deuxième commande sur ce site.",
    "Cliente depuis {years} ans.",
    "Première commande.",
    "J'ai commandé {items} articles.",
    "Commande pour un cadeau.",
    "J'achète régulièrement sur {company}.",
    "Commande de vêtements pour mes enfants.",
    "Achat d'un petit meuble.",
)

CLOSERS: dict[Tone, tuple[str, ...]] = {
    "pos": (
        "Je recommande !",
        "Merci !",
        "Je recommanderai.",
        "Merci {company}.",
        "Je repasserai commande.",
        "Continuez comme ça.",
    ),
    "neg": (
        "À fuir !",
        "Je ne recommande pas.",
        "Je déconseille.",
        "Passez votre chemin.",
        "Plus jamais chez {company}.",
        "Dommage.",
    ),
    "mid": (
        "À voir pour la prochaine fois.",
        "Dommage.",
        "Peut mieux faire.",
        "Je verrai à l'usage.",
        "À améliorer.",
    ),
}

CONTRASTS: tuple[str, ...] = ("mais", "par contre", "en revanche", "cependant", "néanmoins")
COMPANIES: tuple[str, ...] = ("ce site", "cette boutique", "Modalia", "Maison Verte", "ModeVite")


@dataclass(frozen=True, slots=True)
class SyntheticReview:
    """One generated review: its text and its 1-5 star rating."""

    text: str
    rating: int


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


class _Writer:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def pick(self, options: Sequence[str]) -> str:
        return options[self.rng.randrange(len(options))]

    def fill(self, text: str) -> str:
        r = self.rng
        return text.format(
            days=r.randint(2, 6),
            weeks=r.randint(2, 8),
            times=r.randint(3, 6),
            years=r.randint(2, 12),
            items=r.randint(2, 6),
            company=self.pick(COMPANIES),
        )

    def clause(self, tone: Tone) -> str:
        aspect = self.pick(tuple(ASPECTS))
        return self.fill(self.pick(ASPECTS[aspect][tone]))

    def unit(self, tone: Tone) -> str:
        """A clause about an aspect, or (less often) an overall verdict."""
        if self.rng.random() < 0.35:
            return self.pick(VERDICTS[tone])
        return self.clause(tone)

    def units(self, tone: Tone, count: int) -> list[str]:
        """`count` different units of one tone (fewer if the draws keep repeating)."""
        chosen: list[str] = []
        for _ in range(count * 4):
            unit = self.unit(tone)
            if unit not in chosen:
                chosen.append(unit)
            if len(chosen) == count:
                break
        return chosen

    def sentences(self, units: list[str]) -> str:
        """Units joined as sentences, or as one comma list ("rapide, efficace, je recommande")."""
        if len(units) > 1 and self.rng.random() < 0.4:
            return _capital(", ".join(units)) + "."
        return " ".join(_capital(u) + "." for u in units)

    def contrast(self, first: str, second: str) -> str:
        return f"{_capital(first)}, {self.pick(CONTRASTS)} {second}."

    def body(self, rating: int) -> str:
        r = self.rng
        count = 1 + int(r.random() * 3)
        if rating == 5 or (rating == 4 and r.random() < 0.55):
            return self.sentences(self.units("pos", count))
        if rating == 4:
            return self.contrast(self.unit("pos"), self.clause("mid"))
        if rating == 3:
            u = r.random()
            if u < 0.35:
                return self.contrast(self.clause("pos"), self.clause("neg"))
            if u < 0.55:
                return self.contrast(self.clause("neg"), self.clause("pos"))
            if u < 0.8:
                return self.sentences([self.pick(VERDICTS["mid"]), self.clause("mid")])
            return self.sentences(self.units("mid", min(count, 2)))
        if rating == 2 and r.random() < 0.5:
            return self.contrast(self.clause(self.pick(("pos", "mid"))), self.clause("neg"))
        return self.sentences(self.units("neg", count))

    def review(self, rating: int) -> SyntheticReview:
        r = self.rng
        tone: Tone = "pos" if rating >= 4 else "neg" if rating <= 2 else "mid"
        text = self.body(rating)
        if r.random() < 0.2:
            text = f"{self.fill(self.pick(OPENERS))} {text}"
        if r.random() < 0.25:
            text = f"{text} {self.fill(self.pick(CLOSERS[tone]))}"
        if r.random() < 0.3:
            text = f"{self.pick(VERDICTS[tone])}. {text}"  # a title merged into the text
        return SyntheticReview(self.noise(text), rating)

    def noise(self, text: str) -> str:
        r = self.rng
        if r.random() < 0.15:
            text = text.lower()
        if r.random() < 0.1:
            text = _strip_accents(text)
        if r.random() < 0.1:
            text = text.rstrip(".") + " !!"
        if r.random() < 0.1:
            words = text.split(" ")
            long_words = [i for i, w in enumerate(words) if len(w) > 5 and w.isalpha()]
            if long_words:
                i = self.pick([str(i) for i in long_words])
                word = words[int(i)]
                at = 1 + r.randrange(len(word) - 2)
                words[int(i)] = word[:at] + word[at + 1 :]
                text = " ".join(words)
        return text


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


# Star shares of the generated set: enough 3-star reviews for a model to learn the middle.
DEFAULT_STAR_SHARES: dict[int, float] = {1: 0.2, 2: 0.1, 3: 0.2, 4: 0.2, 5: 0.3}


def generate_french_reviews(
    size: int, seed: int = 7, star_shares: dict[int, float] | None = None
) -> list[SyntheticReview]:
    """`size` synthetic French shop reviews with their stars (see the module docstring)."""
    if size < 0:
        raise ValueError(f"size must be 0 or more, got {size}")
    shares = star_shares or DEFAULT_STAR_SHARES
    if set(shares) - {1, 2, 3, 4, 5} or not sum(shares.values()) > 0:
        raise ValueError(f"star_shares must map 1-5 stars to weights, got {shares}")
    writer = _Writer(seed)
    stars = sorted(shares)
    weights = [shares[s] for s in stars]
    ratings = writer.rng.choices(stars, weights=weights, k=size)
    return [writer.review(rating) for rating in ratings]
