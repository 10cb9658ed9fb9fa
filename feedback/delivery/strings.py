"""The e-mail's own words (the survey's words come from its template), per language."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "open": "Open the survey",
        "or_open": "Buttons not working? Open the survey here:",
        "why": "You receive this e-mail because {customer_name} is a customer of {company}.",
        "unsubscribe": "Unsubscribe from surveys",
    },
    "da": {
        "open": "Åbn undersøgelsen",
        "or_open": "Virker knapperne ikke? Åbn undersøgelsen her:",
        "why": "Du modtager denne e-mail, fordi {customer_name} er kunde hos {company}.",
        "unsubscribe": "Afmeld undersøgelser",
    },
    "sv": {
        "open": "Öppna undersökningen",
        "or_open": "Fungerar inte knapparna? Öppna undersökningen här:",
        "why": "Du får det här mejlet eftersom {customer_name} är kund hos {company}.",
        "unsubscribe": "Avregistrera dig från undersökningar",
    },
    "nb": {
        "open": "Åpne undersøkelsen",
        "or_open": "Virker ikke knappene? Åpne undersøkelsen her:",
        "why": "Du mottar denne e-posten fordi {customer_name} er kunde hos {company}.",
        "unsubscribe": "Meld deg av undersøkelser",
    },
}
