"""The words of the customer's case mails (acknowledgement, follow-up) and the follow-up page,
per language. Placeholders: {name}, {person}, {team}, {date}, {company}."""

from __future__ import annotations

from datetime import date

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "greeting": "Dear {name},",
        "greeting_plain": "Hello,",
        "regards": "Kind regards",
        "why": "You receive this e-mail because you answered a survey from {company}.",
        "ack_subject": "Thank you for your answer",
        "ack_person": (
            "Thank you for your answer – we have read it, and {person} will get back to you "
            "by {date}."
        ),
        "ack_team": (
            "Thank you for your answer – we have read it, and someone from {team} will get back "
            "to you by {date}."
        ),
        "ack_we": (
            "Thank you for your answer – we have read it, and we will get back to you by {date}."
        ),
        "followup_subject": "Did we solve your problem?",
        "followup_intro": (
            "Thank you again for your answer to our survey. We have worked on what you told us, "
            "and we would like to know whether it has helped."
        ),
        "question": "Is the problem solved?",
        "yes": "Yes",
        "no": "No",
        "one_tap": "One tap is enough. You can change your answer on the page that opens.",
        "title": "Did we solve your problem?",
        "saved_yes": "Thank you! We are glad the problem is solved.",
        "saved_no": "Thank you for telling us. We will look at it again.",
        "change_until": "You can change your answer until {date}.",
        "tap_to_send": "Tap your answer to send it.",
        "saving": "Saving…",
        "not_saved": "Your answer could not be saved automatically. Please tap it again.",
        "bad_value": "Please choose Yes or No.",
        "closed_title": "This question has closed",
        "closed_text": "Thank you for wanting to answer. Answers could be given until {date}.",
        "not_found_title": "We could not find this page",
        "not_found_text": "The link may be incomplete. Please open it again from the e-mail.",
        "expired_title": "Your answer could not be read",
        "expired_text": "The page may have expired. Please open the link from the e-mail again.",
    },
    "da": {
        "greeting": "Kære {name}",
        "greeting_plain": "Hej",
        "regards": "Venlig hilsen",
        "why": "Du modtager denne e-mail, fordi du har besvaret en undersøgelse fra {company}.",
        "ack_subject": "Tak for dit svar",
        "ack_person": (
            "Tak for dit svar – vi har læst det, og {person} vender tilbage til dig senest {date}."
        ),
        "ack_team": (
            "Tak for dit svar – vi har læst det, og en af os fra {team} vender tilbage til dig "
            "senest {date}."
        ),
        "ack_we": "Tak for dit svar – vi har læst det og vender tilbage til dig senest {date}.",
        "followup_subject": "Fik vi løst dit problem?",
        "followup_intro": (
            "Tak igen for dit svar på vores undersøgelse. Vi har arbejdet med det, du fortalte "
            "os, og vil gerne vide, om det har hjulpet."
        ),
        "question": "Er problemet løst?",
        "yes": "Ja",
        "no": "Nej",
        "one_tap": "Ét tryk er nok. Du kan ændre dit svar på den side, der åbnes.",
        "title": "Fik vi løst dit problem?",
        "saved_yes": "Tak! Vi er glade for, at problemet er løst.",
        "saved_no": "Tak, fordi du siger til. Vi ser på det igen.",
        "change_until": "Du kan ændre dit svar frem til {date}.",
        "tap_to_send": "Tryk på dit svar for at sende det.",
        "saving": "Gemmer…",
        "not_saved": "Dit svar kunne ikke gemmes automatisk. Tryk på det igen.",
        "bad_value": "Vælg venligst Ja eller Nej.",
        "closed_title": "Spørgsmålet er lukket",
        "closed_text": "Tak, fordi du ville svare. Der kunne svares frem til {date}.",
        "not_found_title": "Vi kunne ikke finde siden",
        "not_found_text": "Linket er måske ufuldstændigt. Åbn det igen fra e-mailen.",
        "expired_title": "Dit svar kunne ikke læses",
        "expired_text": "Siden er måske udløbet. Åbn linket fra e-mailen igen.",
    },
    "sv": {
        "greeting": "Hej {name},",
        "greeting_plain": "Hej,",
        "regards": "Vänliga hälsningar",
        "why": "Du får det här mejlet eftersom du har svarat på en undersökning från {company}.",
        "ack_subject": "Tack för ditt svar",
        "ack_person": (
            "Tack för ditt svar – vi har läst det, och {person} återkommer till dig senast {date}."
        ),
        "ack_team": (
            "Tack för ditt svar – vi har läst det, och någon av oss på {team} återkommer till dig "
            "senast {date}."
        ),
        "ack_we": "Tack för ditt svar – vi har läst det och återkommer till dig senast {date}.",
        "followup_subject": "Löste vi ditt problem?",
        "followup_intro": (
            "Tack igen för ditt svar på vår undersökning. Vi har arbetat med det du berättade "
            "för oss och vill gärna veta om det har hjälpt."
        ),
        "question": "Är problemet löst?",
        "yes": "Ja",
        "no": "Nej",
        "one_tap": "Det räcker med ett tryck. Du kan ändra ditt svar på sidan som öppnas.",
        "title": "Löste vi ditt problem?",
        "saved_yes": "Tack! Vad roligt att problemet är löst.",
        "saved_no": "Tack för att du säger till. Vi tittar på det igen.",
        "change_until": "Du kan ändra ditt svar till och med {date}.",
        "tap_to_send": "Tryck på ditt svar för att skicka det.",
        "saving": "Sparar…",
        "not_saved": "Ditt svar kunde inte sparas automatiskt. Tryck på det igen.",
        "bad_value": "Välj Ja eller Nej.",
        "closed_title": "Frågan är stängd",
        "closed_text": "Tack för att du ville svara. Det gick att svara till och med {date}.",
        "not_found_title": "Vi hittade inte sidan",
        "not_found_text": "Länken kan vara ofullständig. Öppna den igen från mejlet.",
        "expired_title": "Ditt svar kunde inte läsas",
        "expired_text": "Sidan kan ha gått ut. Öppna länken från mejlet igen.",
    },
    "nb": {
        "greeting": "Hei {name},",
        "greeting_plain": "Hei,",
        "regards": "Vennlig hilsen",
        "why": "Du mottar denne e-posten fordi du har svart på en undersøkelse fra {company}.",
        "ack_subject": "Takk for svaret ditt",
        "ack_person": (
            "Takk for svaret ditt – vi har lest det, og {person} tar kontakt med deg innen {date}."
        ),
        "ack_team": (
            "Takk for svaret ditt – vi har lest det, og en av oss i {team} tar kontakt med deg "
            "innen {date}."
        ),
        "ack_we": "Takk for svaret ditt – vi har lest det og tar kontakt med deg innen {date}.",
        "followup_subject": "Fikk vi løst problemet ditt?",
        "followup_intro": (
            "Takk igjen for svaret ditt på undersøkelsen vår. Vi har jobbet med det du fortalte "
            "oss, og vil gjerne vite om det har hjulpet."
        ),
        "question": "Er problemet løst?",
        "yes": "Ja",
        "no": "Nei",
        "one_tap": "Ett trykk er nok. Du kan endre svaret ditt på siden som åpnes.",
        "title": "Fikk vi løst problemet ditt?",
        "saved_yes": "Takk! Så bra at problemet er løst.",
        "saved_no": "Takk for at du sier fra. Vi ser på det igjen.",
        "change_until": "Du kan endre svaret ditt frem til {date}.",
        "tap_to_send": "Trykk på svaret ditt for å sende det.",
        "saving": "Lagrer…",
        "not_saved": "Svaret ditt kunne ikke lagres automatisk. Trykk på det igjen.",
        "bad_value": "Velg Ja eller Nei.",
        "closed_title": "Spørsmålet er lukket",
        "closed_text": "Takk for at du ville svare. Det var mulig å svare frem til {date}.",
        "not_found_title": "Vi fant ikke siden",
        "not_found_text": "Lenken kan være ufullstendig. Åpne den på nytt fra e-posten.",
        "expired_title": "Svaret ditt kunne ikke leses",
        "expired_text": "Siden kan ha utløpt. Åpne lenken fra e-posten på nytt.",
    },
}
assert all(set(words) == set(STRINGS["en"]) for words in STRINGS.values())

_MONTHS = {
    "en": "January February March April May June July August September October November December",
    "da": "januar februar marts april maj juni juli august september oktober november december",
    "sv": "januari februari mars april maj juni juli augusti september oktober november december",
    "nb": "januar februar mars april mai juni juli august september oktober november desember",
}
_WEEKDAYS = {
    "en": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
    "da": "mandag tirsdag onsdag torsdag fredag lørdag søndag",
    "sv": "måndag tisdag onsdag torsdag fredag lördag söndag",
    "nb": "mandag tirsdag onsdag torsdag fredag lørdag søndag",
}
# How each language writes "Thursday 3 December 2026" (strftime would follow the OS locale).
_FORMATS = {
    "en": ("{weekday} {day} {month}", "{day} {month}"),
    "da": ("{weekday} den {day}. {month}", "{day}. {month}"),
    "sv": ("{weekday} den {day} {month}", "{day} {month}"),
    "nb": ("{weekday} {day}. {month}", "{day}. {month}"),
}


def words(language: str) -> dict[str, str]:
    return STRINGS.get(language, STRINGS["en"])


def long_date(day: date, language: str, *, weekday: bool = False, year: bool = True) -> str:
    """'torsdag den 3. december 2026' and the like, in the customer's language."""
    language = language if language in _FORMATS else "en"
    with_weekday, plain = _FORMATS[language]
    text = (with_weekday if weekday else plain).format(
        weekday=_WEEKDAYS[language].split()[day.weekday()],
        day=day.day,
        month=_MONTHS[language].split()[day.month - 1],
    )
    return f"{text} {day.year}" if year else text
