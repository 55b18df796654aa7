"""A generated corpus with known personal-data spans, for bench/pii.py.

Faker (en_US, fr_FR, de_DE) draws the values; hand-written templates in each language place them in
three genres: running sentences, CSV-like tables, and e-mails with headers and a signature. Every
planted value's exact character offsets are recorded while the document is built, so the truth
never depends on the detectors. Values are written the way people write them: IBANs and cards
whole or in groups of four, French numbers whole or grouped, phones as Faker formats them.

Phones: Faker draws some numbers that no numbering plan issues (German "00008063608", US area codes
starting with 0 or 1). The detector only reports numbers valid in their plan, so the planted phones
are redrawn until libphonenumber says the number exists (``is_valid_number``); the share redrawn is
reported. That checks the number, not how it is written, so it is no fit to the detector's search.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import phonenumbers
from faker import Faker

LOCALES = ("en_US", "fr_FR", "de_DE")
REGION = {"en_US": "US", "fr_FR": "FR", "de_DE": "DE"}
LANGUAGE = {"en_US": "en", "fr_FR": "fr", "de_DE": "de"}


@dataclass
class Doc:
    locale: str
    genre: str
    parts: list[str] = field(default_factory=list)
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    _len: int = 0

    def add(self, text: str) -> Doc:
        self.parts.append(text)
        self._len += len(text)
        return self

    def plant(self, kind: str, value: str) -> Doc:
        self.spans.append((self._len, self._len + len(value), kind))
        return self.add(value)

    @property
    def text(self) -> str:
        return "".join(self.parts)

    @property
    def language(self) -> str:
        return LANGUAGE[self.locale]


class Values:
    """One locale's value generators, formatted with some of the variety of real text."""

    def __init__(self, locale: str, seed: int) -> None:
        self.fake = Faker(locale)
        self.fake.seed_instance(seed)
        self.rng = random.Random(seed)
        self.locale = locale
        self.phones_drawn = 0
        self.phones_redrawn = 0

    def grouped(self, value: str, size: int = 4, sep: str = " ") -> str:
        return sep.join(value[i:i + size] for i in range(0, len(value), size))

    def iban(self) -> str:
        value = self.fake.iban()
        return self.grouped(value) if self.rng.random() < 0.5 else value

    def card(self) -> str:
        value = self.fake.credit_card_number()
        r = self.rng.random()
        if len(value) == 16 and r < 0.5:
            return self.grouped(value, 4, " " if r < 0.35 else "-")
        if len(value) == 15 and value[:2] in ("34", "37") and r < 0.5:
            return f"{value[:4]} {value[4:10]} {value[10:]}"
        return value

    def phone(self) -> str:
        for _ in range(50):
            self.phones_drawn += 1
            value = self.fake.phone_number()
            try:
                parsed = phonenumbers.parse(value, REGION[self.locale])
            except phonenumbers.NumberParseException:
                parsed = None
            if parsed is not None and phonenumbers.is_valid_number(parsed):
                return value
            self.phones_redrawn += 1
        raise RuntimeError(f"no valid phone number from Faker {self.locale} in 50 draws")

    def nir(self) -> str:
        v = self.fake.ssn()
        if self.rng.random() < 0.5:
            return f"{v[0]} {v[1:3]} {v[3:5]} {v[5:7]} {v[7:10]} {v[10:13]} {v[13:]}"
        return v

    def siren(self) -> str:
        v = self.fake.siren()
        return v.replace(" ", "") if self.rng.random() < 0.5 else v

    def siret(self) -> str:
        v = self.fake.siret()
        return v.replace(" ", "") if self.rng.random() < 0.5 else v

    def ip(self) -> tuple[str, str]:
        return ("ipv6", self.fake.ipv6()) if self.rng.random() < 0.3 else ("ipv4", self.fake.ipv4())

    def national(self) -> tuple[str, str] | None:
        """The locale's identifier: SSN in the US, NIR/SIREN/SIRET in France, none in Germany."""
        if self.locale == "en_US":
            return "us_ssn", self.fake.ssn()
        if self.locale == "fr_FR":
            kind = self.rng.choice(("fr_nir", "fr_siren", "fr_siret"))
            return kind, {"fr_nir": self.nir, "fr_siren": self.siren, "fr_siret": self.siret}[kind]()
        return None


# Sentence templates per language: {k} slots are filled in order by the builder.
SENTENCES = {
    "en": [
        ("person", "{} called yesterday about the delayed order."),
        ("email", "Please send the signed contract to {} before Friday."),
        ("phone", "You can reach the front desk at {} during office hours."),
        ("iban", "The refund will be wired to IBAN {} within five days."),
        ("card", "The card ending the booking was {}, charged twice."),
        ("ip", "Failed logins came from {} last night."),
        ("national", "The applicant's number is {} according to the form."),
        ("person", "According to the report, {} approved the budget."),
        ("company", "The supplier {} sent a revised quote."),
        ("city", "The meeting moved to our office in {}."),
    ],
    "fr": [
        ("person", "{} a appelé hier au sujet de la commande en retard."),
        ("email", "Merci d'envoyer le contrat signé à {} avant vendredi."),
        ("phone", "Vous pouvez joindre l'accueil au {} aux heures de bureau."),
        ("iban", "Le remboursement sera viré sur l'IBAN {} sous cinq jours."),
        ("card", "La carte utilisée pour la réservation était {}, débitée deux fois."),
        ("ip", "Les connexions échouées venaient de {} cette nuit."),
        ("national", "Le numéro indiqué sur le formulaire est {}."),
        ("person", "D'après le compte rendu, {} a validé le budget."),
        ("company", "Le fournisseur {} a envoyé un nouveau devis."),
        ("city", "La réunion a lieu dans nos bureaux de {}."),
    ],
    "de": [
        ("person", "{} hat gestern wegen der verspäteten Bestellung angerufen."),
        ("email", "Bitte senden Sie den unterschriebenen Vertrag bis Freitag an {}."),
        ("phone", "Sie erreichen den Empfang unter {} zu den Bürozeiten."),
        ("iban", "Die Erstattung wird innerhalb von fünf Tagen auf die IBAN {} überwiesen."),
        ("card", "Für die Buchung wurde die Karte {} zweimal belastet."),
        ("ip", "Die fehlgeschlagenen Anmeldungen kamen heute Nacht von {}."),
        ("national", "Die Nummer auf dem Formular lautet {}."),
        ("person", "Laut Bericht hat {} das Budget genehmigt."),
        ("company", "Der Lieferant {} hat ein neues Angebot geschickt."),
        ("city", "Das Treffen findet in unserem Büro in {} statt."),
    ],
}
HEADERS = {
    "en": ("name", "email", "phone", "iban", "card", "ip"),
    "fr": ("nom", "courriel", "téléphone", "iban", "carte", "ip"),
    "de": ("Name", "E-Mail", "Telefon", "IBAN", "Karte", "IP"),
}
MAIL = {
    "en": ("Hello {},", "Thank you for your message. I will call you back tomorrow.", "Best regards,"),
    "fr": ("Bonjour {},", "Merci pour votre message. Je vous rappelle demain.", "Cordialement,"),
    "de": ("Hallo {},", "Vielen Dank für Ihre Nachricht. Ich rufe Sie morgen zurück.",
           "Mit freundlichen Grüßen"),
}


def _value(v: Values, slot: str) -> tuple[str, str] | None:
    if slot == "person":
        return "person", v.fake.name()
    if slot == "email":
        return "email", v.fake.email()
    if slot == "phone":
        return "phone", v.phone()
    if slot == "iban":
        return "iban", v.iban()
    if slot == "card":
        return "card", v.card()
    if slot == "ip":
        return v.ip()
    if slot == "national":
        return v.national()
    if slot == "company":
        return "organization", v.fake.company()
    return "location", v.fake.city()


def sentences(v: Values, lang: str) -> Doc:
    doc = Doc(v.locale, "sentences")
    for slot, template in v.rng.sample(SENTENCES[lang], 5):
        planted = _value(v, slot)
        if planted is None:
            continue
        before, after = template.split("{}")
        doc.add(before).plant(*planted).add(after + " ")
    return doc


def table(v: Values, lang: str) -> Doc:
    doc = Doc(v.locale, "table")
    header = list(HEADERS[lang])
    national = v.national()
    if national is not None:
        names = {"us_ssn": "ssn", "fr_nir": "nir", "fr_siren": "siren", "fr_siret": "siret"}
        header.append(names[national[0]])
    doc.add(",".join(header) + "\n")
    for _ in range(v.rng.randint(2, 5)):
        cells = [("person", v.fake.name()), ("email", v.fake.email()), ("phone", v.phone()),
                 ("iban", v.iban()), ("card", v.card()), v.ip()]
        if national is not None:
            again = v.national()
            assert again is not None
            cells.append((national[0], {"fr_nir": v.nir, "fr_siren": v.siren, "fr_siret": v.siret,
                                        "us_ssn": v.fake.ssn}[national[0]]()))
        for i, cell in enumerate(cells):
            doc.add("," if i else "").plant(*cell)
        doc.add("\n")
    return doc


def email(v: Values, lang: str) -> Doc:
    doc = Doc(v.locale, "email")
    sender, recipient = v.fake.name(), v.fake.name()
    doc.add("From: ").plant("person", sender).add(" <").plant("email", v.fake.email()).add(">\n")
    doc.add("To: ").plant("person", recipient).add(" <").plant("email", v.fake.email()).add(">\n")
    doc.add("Subject: " + v.fake.sentence(nb_words=4).rstrip(".") + "\n\n")
    hello, body, bye = MAIL[lang]
    first = recipient.split()[0] if lang != "de" else recipient.split()[-1]
    doc.add(hello.split("{}")[0]).plant("person", first if first[0].isupper() else recipient)
    doc.add(hello.split("{}")[1] + "\n\n" + body + "\n")
    extra = v.rng.choice(("iban", "card", "national", "ip"))
    planted = _value(v, extra)
    if planted is not None:
        template = dict(SENTENCES[lang])[extra]
        before, after = template.split("{}")
        doc.add(before).plant(*planted).add(after + "\n")
    doc.add("\n" + bye + "\n").plant("person", sender).add("\n")
    doc.add(v.fake.job().split(",")[0] + ", ").plant("organization", v.fake.company()).add("\n")
    doc.add("Tel. ").plant("phone", v.phone()).add("\n")
    return doc


def corpus(n_per_locale: int, seed: int = 14) -> tuple[list[Doc], dict[str, float]]:
    """*n_per_locale* documents in each locale, genres in turn; and the share of phones redrawn."""
    docs: list[Doc] = []
    redrawn: dict[str, float] = {}
    for k, locale in enumerate(LOCALES):
        v = Values(locale, seed + k)
        lang = LANGUAGE[locale]
        for i in range(n_per_locale):
            docs.append((sentences, table, email)[i % 3](v, lang))
        redrawn[locale] = v.phones_redrawn / max(v.phones_drawn, 1)
    return docs, redrawn
