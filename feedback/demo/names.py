"""Nordic B2B company and person names for demo data, by customer language (da, sv, nb, en)."""

from __future__ import annotations

import re

import numpy as np

LEGAL_FORMS = {"da": ("ApS", "A/S"), "sv": ("AB",), "nb": ("AS",), "en": ("Ltd",)}

# The words a company name is built from: a town, a family name, a trade, a district.
PLACES = {
    "da": "Aarhus Aalborg Køge Næstved Holstebro Hillerød Fåborg Ærøskøbing Silkeborg Esbjerg "
    "Vejle Rødovre Sønderborg Hørsholm Tårnby Ringkøbing Skælskør Præstø Nørresundby Frederikshavn "
    "Viborg Odense Horsens Randers Glostrup Ballerup Skive Tønder Åbenrå Kolding",
    "sv": "Göteborg Västerås Örebro Jönköping Malmö Linköping Norrköping Gävle Umeå Luleå Växjö "
    "Södertälje Borås Skövde Östersund Trollhättan Nässjö Härnösand Mölndal Kalmar Halmstad "
    "Sundsvall Karlstad Uppsala Eskilstuna Lidköping Ängelholm Åmål Sölvesborg Hälsingborg",
    "nb": "Tromsø Bodø Ålesund Sandnes Drøbak Førde Hønefoss Lillestrøm Kristiansand Bærum Gjøvik "
    "Ørsta Molde Haugesund Stavanger Hamar Kongsberg Sarpsborg Jæren Råde Lørenskog Tønsberg "
    "Fredrikstad Harstad Steinkjer Levanger Mosjøen Ås Flekkefjord Grimstad",
    "en": "Northgate Harbour Westfield Kingsbridge Ashford Riverside Oakley Thornbury Castleton "
    "Eastwood Fairford Hadley Bramley Stanton Wexford Ludlow Marlow Hexham Alnwick Buxton",
}
FAMILIES = {
    "da": "Sørensen Jørgensen Møller Kjær Højgaard Bækgaard Nørgaard Damgaard Lauritsen Kræmer "
    "Søgaard Thygesen Frølund Mørch Skjødt Bøgh Dahl Holm Lund Vestergaard Østergaard Brøndum "
    "Grønbech Kristensen Fogh Therkildsen Hjørne Nissen Bach Rasmussen",
    "sv": "Åberg Ström Sjöberg Lindqvist Öberg Bäckström Håkansson Nyström Engström Löfgren "
    "Ekström Söderberg Wållberg Björk Forsberg Hedlund Sandström Åkesson Lundgren Nordin Göransson "
    "Järvinen Dahlén Holmén Sjögren Wikström Fröberg Hägg Almqvist Östlund",
    "nb": "Sørli Bjørnstad Haugen Løvland Strøm Aasen Bråten Nygård Solberg Østby Kvåle Bakke "
    "Hovland Sæther Lie Myhre Røed Brøste Tveit Moen Johansen Dahle Vik Fjellheim Eide Øverli "
    "Håland Grøtting Sunde Stokke",
    "en": "Mitchell Hughes Clarke Whitaker Holt Fenwick Barlow Thornton Pryce Ashworth Kendall "
    "Lowther Bramwell Stokes Harding Marsh Pennington Radley Sutton Foster",
}
TRADES = {
    "da": "Træ Stål Byg Emballage Køleteknik Maskinfabrik Trælast Rådgivning Logistik Elektro VVS "
    "Glas Smedje Tømrer Beslag Værktøj Farver Kran Fødevarer Energi Auto Plast Tekstil Møbler "
    "Transport Isolering Køkken Gulve Entreprenør Automation",
    "sv": "Verkstad Trä Stål Bygg Förpackning Kyl Elteknik Maskin Logistik Konsult Måleri Plåt "
    "Smide Snickeri Verktyg Färg Kran Livsmedel Energi Åkeri Plast Textil Möbel Transport "
    "Isolering Kök Golv Entreprenad Automation Rör",
    "nb": "Trelast Stål Bygg Emballasje Kjøleteknikk Mekaniske Elektro Rørlegger Sjømat Regnskap "
    "Logistikk Transport Smie Snekkeri Verktøy Maling Kran Næringsmidler Energi Bil Plast "
    "Tekstil Møbler Isolasjon Kjøkken Gulv Entreprenør Automasjon Glass Sveis",
    "en": "Engineering Logistics Supplies Packaging Industrial Components Systems Trading "
    "Fabrication Tooling Coatings Electrical Plastics Textiles Furniture Automation Foods "
    "Energy Haulage Fixings",
}
DISTRICTS = {
    "da": ("Nord", "Syd", "Øst", "Vest", "Midtjylland", "Sjælland", "Fyn"),
    "sv": ("Norr", "Söder", "Öst", "Väst", "Mälardalen", "Skåne", "Norrland"),
    "nb": ("Nord", "Sør", "Øst", "Vest", "Vestland", "Trøndelag", "Agder"),
    "en": ("North", "South", "East", "West", "Midlands", "Northern", "Coastal"),
}
FIRST_NAMES = {
    "da": "Søren Mette Jørgen Birthe Rasmus Signe Mads Line Anders Kirsten Bjørn Maja Niels Ida "
    "Thomas Camilla Jens Freja Ulrik Henriette Søs Troels Åse Kasper",
    "sv": "Björn Åsa Göran Märta Anders Karin Oskar Ingrid Lars Elin Håkan Sofia Jörgen Malin "
    "Mattias Linnéa Per Sanna Ulf Maria Örjan Annika Nils Ebba",
    "nb": "Øystein Åse Bjørn Solveig Håkon Ingrid Ola Kari Jørgen Ragnhild Espen Siri Trond Mari "
    "Geir Tone Pål Hilde Kåre Silje Ørjan Liv Sindre Ane",
    "en": "James Sarah David Emma Richard Claire Andrew Helen Mark Laura Paul Rachel Simon Kate "
    "Peter Joanne Daniel Fiona Martin Lucy",
}

_TRANSLITERATION = str.maketrans(
    {"æ": "ae", "ø": "oe", "å": "aa", "ä": "ae", "ö": "oe", "ü": "ue", "é": "e", "&": " "}
)


def _words(table: dict[str, str]) -> dict[str, tuple[str, ...]]:
    return {language: tuple(text.split()) for language, text in table.items()}


_PLACES, _FAMILIES, _TRADES, _FIRST = map(_words, (PLACES, FAMILIES, TRADES, FIRST_NAMES))


def slug(text: str) -> str:
    """ASCII, lower-case, hyphenated: 'Køge Trælast ApS' -> 'koege-traelast-aps'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower().translate(_TRANSLITERATION)).strip("-")


def _company(language: str, pattern: int, picks: np.ndarray) -> str:
    place = _PLACES[language][picks[0] % len(_PLACES[language])]
    family = _FAMILIES[language][picks[1] % len(_FAMILIES[language])]
    trade = _TRADES[language][picks[2] % len(_TRADES[language])]
    forms = LEGAL_FORMS[language]
    form = forms[picks[3] % len(forms)]
    sons = {"da": "& Søn", "sv": "& Söner", "nb": "& Sønner", "en": "& Sons"}[language]
    stems = (
        f"{place} {trade}",
        f"{family} {trade}",
        f"{family} {sons}",
        f"{family} & {_FAMILIES[language][picks[4] % len(_FAMILIES[language])]}",
        f"{family} {trade} {place}",
    )
    return f"{stems[pattern]} {form}"


def company_names(rng: np.random.Generator, languages: list[str]) -> list[str]:
    """One plausible, distinct company name per customer, in that customer's language."""
    patterns = rng.choice(5, size=len(languages), p=[0.3, 0.3, 0.1, 0.1, 0.2])
    picks = rng.integers(0, 10_000, size=(len(languages), 6))
    taken: set[str] = set()
    names = []
    for language, pattern, pick in zip(languages, patterns, picks, strict=True):
        name = _company(language, pattern, pick)
        if name in taken:  # a regional branch of the same firm, then a numbered one
            form = name.rsplit(" ", 1)[1]
            district = DISTRICTS[language][pick[5] % len(DISTRICTS[language])]
            stem = f"{_company(language, 4, pick).rsplit(' ', 1)[0]} {district}"
            name, number = f"{stem} {form}", 2
            while name in taken:
                name, number = f"{stem} {number} {form}", number + 1
        taken.add(name)
        names.append(name)
    return names


def person_names(rng: np.random.Generator, language: str, count: int) -> list[str]:
    """`count` people with first and family names of the language."""
    first = rng.integers(0, len(_FIRST[language]), size=count)
    family = rng.integers(0, len(_FAMILIES[language]), size=count)
    return [
        f"{_FIRST[language][f]} {_FAMILIES[language][s]}"
        for f, s in zip(first, family, strict=True)
    ]


def email_domain(company: str, taken: set[str]) -> str:
    """A non-routable '<slug>.example' domain for a company, distinct from those in `taken`."""
    words = company.split()
    if words[-1] in {"ApS", "A/S", "AB", "AS", "Ltd"}:
        words = words[:-1]
    base = slug(" ".join(words))[:50].strip("-") or "company"
    domain, number = f"{base}.example", 2
    while domain in taken:
        domain, number = f"{base}-{number}.example", number + 1
    taken.add(domain)
    return domain
