"""Survey templates: YAML files in `survey_templates/`, validated when loaded.

A template holds every text a customer reads, in each of the four languages. Loading checks
everything a translator or editor can get wrong (a missing language, a typo in a field name,
a placeholder spelled differently in one language) and reports each problem with its file
and field, so a broken template never reaches a customer.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from feedback.customers.models import LANGUAGES

# Files in the templates folder that hold other configuration, not survey templates.
NOT_TEMPLATES = {"routing.yaml", "themes.yaml", "followup.yaml"}  # settings beside the surveys
PLACEHOLDERS = {"company", "contact_name", "customer_name"}
SCALES = {"nps": (0, 10), "rating": (1, 10)}  # question kind -> inclusive score range
QUESTION_KINDS = (*SCALES, "comment")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_QUESTION_FIELDS = {
    "key", "kind", "text", "low_label", "high_label", "primary", "csi", "weight", "driver",
}  # fmt: skip
_EMAIL_FIELDS = ("subject", "reminder_subject", "intro")


@dataclass(frozen=True)
class Problem:
    file: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}"


class TemplateError(Exception):
    """One or more templates are invalid; `problems` lists each one."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Question:
    key: str
    kind: str  # nps | rating | comment
    text: Mapping[str, str]
    low_label: Mapping[str, str] | None = None
    high_label: Mapping[str, str] | None = None
    primary: bool = False  # the question shown with score buttons in the e-mail
    csi: bool = False  # counts towards the CSI index
    weight: float = 1.0  # its weight in the CSI index
    driver: str | None = None  # e.g. delivery, quality, service, price

    @property
    def scale(self) -> tuple[int, int] | None:
        return SCALES.get(self.kind)


@dataclass(frozen=True)
class SurveyTemplate:
    key: str
    name: Mapping[str, str]
    email: Mapping[str, Mapping[str, str]]
    questions: tuple[Question, ...]
    source: str = field(default="", compare=False)

    @property
    def primary(self) -> Question:
        return next(q for q in self.questions if q.primary)

    def question(self, key: str) -> Question:
        return next(q for q in self.questions if q.key == key)

    @property
    def content(self) -> dict:
        """Everything a respondent sees, as plain data: what a version freezes."""
        return {
            "key": self.key,
            "name": dict(self.name),
            "email": {k: dict(v) for k, v in self.email.items()},
            "questions": [
                {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in q.__dict__.items()}
                for q in self.questions
            ],
        }

    @classmethod
    def from_content(cls, content: Mapping) -> SurveyTemplate:
        """Rebuild a template from a stored version's content (see `content`)."""
        questions = tuple(Question(**q) for q in content["questions"])
        return cls(content["key"], content["name"], content["email"], questions)

    def content_hash(self) -> str:
        canonical = json.dumps(self.content, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def csi_index(self, answers: Mapping[str, int]) -> float | None:
        """Weighted mean of (x - 1) / 9 * 100 over the answered CSI items; None if none."""
        items = [(q.weight, answers[q.key]) for q in self.questions if q.csi and q.key in answers]
        if not items:
            return None
        total_weight = sum(w for w, _ in items)
        return sum(w * (x - 1) / 9 * 100 for w, x in items) / total_weight


def render(text: str, **values: str) -> str:
    """Fill placeholders; one that has no value becomes empty rather than failing."""
    return string.Formatter().vformat(text, (), _Blank(values))


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def default_directory() -> Path:
    return Path(__file__).resolve().parents[2] / "survey_templates"


def load_templates(directory: Path | str | None = None) -> dict[str, SurveyTemplate]:
    """Load and validate every template in `directory`; raise TemplateError listing problems."""
    directory = Path(directory) if directory else default_directory()
    problems: list[Problem] = []
    if not directory.is_dir():
        raise TemplateError([Problem(str(directory), "-", "templates folder not found")])
    raw: dict[str, tuple[str, dict]] = {}
    for path in sorted(directory.glob("*.yaml")):
        if path.name in NOT_TEMPLATES:
            continue
        document = _read_yaml(path, problems)
        if document is None:
            continue
        key = document.get("key")
        if key != path.stem:
            problems.append(Problem(path.name, "key", f"must be {path.stem!r} (the file name)"))
            continue
        raw[key] = (path.name, document)
    templates = {}
    for key, (file, document) in raw.items():
        template = _build(file, document, raw, problems)
        if template is not None:
            templates[key] = template
    if problems:
        raise TemplateError(problems)
    if not templates:
        raise TemplateError([Problem(str(directory), "-", "no templates (*.yaml) found")])
    return templates


def _read_yaml(path: Path, problems: list[Problem]) -> dict | None:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        problems.append(Problem(path.name, "-", "not UTF-8 text"))
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "-"
        problems.append(
            Problem(path.name, where, f"not valid YAML: {getattr(exc, 'problem', exc)}")
        )
        return None
    if not isinstance(document, dict):
        problems.append(Problem(path.name, "-", "must be a mapping with key, name, questions"))
        return None
    return document


def _build(file: str, doc: dict, raw: dict, problems: list[Problem]) -> SurveyTemplate | None:
    before = len(problems)
    for unknown in sorted(set(doc) - {"key", "name", "email", "questions"}):
        problems.append(Problem(file, unknown, "unknown field"))
    name = _translations(file, "name", doc.get("name"), problems)
    email_doc = doc.get("email")
    email = {}
    if not isinstance(email_doc, dict):
        problems.append(Problem(file, "email", f"must hold {', '.join(_EMAIL_FIELDS)}"))
    else:
        for unknown in sorted(set(email_doc) - set(_EMAIL_FIELDS)):
            problems.append(Problem(file, f"email.{unknown}", "unknown field"))
        for part in _EMAIL_FIELDS:
            email[part] = _translations(file, f"email.{part}", email_doc.get(part), problems)
    questions = _questions(file, doc.get("questions"), raw, problems)
    if len(problems) > before:
        return None
    return SurveyTemplate(doc["key"], name, email, tuple(questions), source=file)


def _questions(file: str, items, raw: dict, problems: list[Problem]) -> list[Question]:
    if not isinstance(items, list) or not items:
        problems.append(Problem(file, "questions", "must be a non-empty list"))
        return []
    questions, seen = [], set()
    for index, item in enumerate(items):
        where = f"questions[{index}]"
        if isinstance(item, dict) and set(item) == {"use"}:
            item, where = _resolve_use(file, where, item["use"], raw, problems)
        if not isinstance(item, dict):
            if item is not None:
                problems.append(Problem(file, where, "must be a mapping"))
            continue
        question = _question(file, where, item, problems)
        if question is None:
            continue
        if question.key in seen:
            problems.append(Problem(file, f"{where}.key", f"{question.key!r} is used twice"))
        seen.add(question.key)
        questions.append(question)
    scored = [q for q in questions if q.scale]
    if questions and not scored:
        problems.append(Problem(file, "questions", "needs at least one nps or rating question"))
    primaries = [q for q in questions if q.primary]
    if len(primaries) > 1:
        problems.append(Problem(file, "questions", "only one question can be primary"))
    elif scored and not primaries:  # the first scored question gets the e-mail buttons
        first = questions.index(scored[0])
        questions[first] = Question(**{**questions[first].__dict__, "primary": True})
    return questions


def _resolve_use(file: str, where: str, ref, raw: dict, problems: list[Problem]):
    template_key, _, question_key = str(ref).partition(".")
    source = raw.get(template_key)
    found = None
    if source is not None and isinstance(source[1].get("questions"), list):
        found = next(
            (
                q
                for q in source[1]["questions"]
                if isinstance(q, dict) and q.get("key") == question_key
            ),
            None,
        )
    if found is None:
        problems.append(
            Problem(file, f"{where}.use", f"no question {ref!r} (use template.question)")
        )
        return None, where
    return {k: v for k, v in found.items() if k != "primary"}, f"{where} ({ref})"


def _question(file: str, where: str, item: dict, problems: list[Problem]) -> Question | None:
    before = len(problems)
    for unknown in sorted(set(item) - _QUESTION_FIELDS):
        problems.append(Problem(file, f"{where}.{unknown}", "unknown field"))
    key, kind = item.get("key"), item.get("kind")
    if not isinstance(key, str) or not _KEY.match(key):
        problems.append(Problem(file, f"{where}.key", "must be lower-case letters, digits or _"))
    if kind not in QUESTION_KINDS:
        problems.append(
            Problem(file, f"{where}.kind", f"must be one of {', '.join(QUESTION_KINDS)}")
        )
    text = _translations(file, f"{where}.text", item.get("text"), problems)
    labels = {}
    for label in ("low_label", "high_label"):
        if kind in SCALES:
            labels[label] = _translations(file, f"{where}.{label}", item.get(label), problems)
        elif label in item:
            problems.append(Problem(file, f"{where}.{label}", "only scored questions have labels"))
    flags = {}
    for flag in ("primary", "csi"):
        value = item.get(flag, False)
        if not isinstance(value, bool):
            problems.append(Problem(file, f"{where}.{flag}", "must be true or false"))
        flags[flag] = value is True
    if flags["primary"] and kind not in SCALES:
        problems.append(Problem(file, f"{where}.primary", "only a scored question can be primary"))
    if flags["csi"] and kind != "rating":
        problems.append(Problem(file, f"{where}.csi", "only rating (1-10) questions count to CSI"))
    weight = item.get("weight", 1)
    if "weight" in item and not flags["csi"]:
        problems.append(Problem(file, f"{where}.weight", "a weight needs csi: true"))
    if isinstance(weight, bool) or not isinstance(weight, int | float) or weight <= 0:
        problems.append(Problem(file, f"{where}.weight", "must be a positive number"))
    driver = item.get("driver")
    if driver is not None and (kind != "rating" or not _KEY.match(str(driver))):
        problems.append(Problem(file, f"{where}.driver", "a driver is a rating with a short key"))
    if len(problems) > before:
        return None
    return Question(
        key=key, kind=kind, text=text, weight=float(weight), driver=driver, **labels, **flags
    )


def _translations(file: str, where: str, value, problems: list[Problem]) -> dict[str, str]:
    """A mapping with a non-empty text for each language, all using the same placeholders."""
    if not isinstance(value, dict):
        problems.append(
            Problem(file, where, f"must give a text for each of {', '.join(LANGUAGES)}")
        )
        return {}
    texts, fields_by_language = {}, {}
    for language in sorted(set(value) - set(LANGUAGES)):
        problems.append(Problem(file, f"{where}.{language}", "unknown language"))
    for language in LANGUAGES:
        text = value.get(language)
        if not isinstance(text, str) or not text.strip():
            problems.append(Problem(file, f"{where}.{language}", "missing text"))
            continue
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
        except ValueError as exc:
            problems.append(Problem(file, f"{where}.{language}", f"bad placeholder: {exc}"))
            continue
        allowed = ", ".join(sorted(PLACEHOLDERS))
        for unknown in sorted(names - PLACEHOLDERS):
            message = f"unknown placeholder {{{unknown}}} (allowed: {allowed})"
            problems.append(Problem(file, f"{where}.{language}", message))
        texts[language] = text.strip()
        fields_by_language[language] = names & PLACEHOLDERS
    if len({frozenset(f) for f in fields_by_language.values()}) > 1:
        detail = "; ".join(
            f"{lang}: {sorted(f) or 'none'}" for lang, f in fields_by_language.items()
        )
        problems.append(Problem(file, where, f"languages use different placeholders ({detail})"))
    return texts
