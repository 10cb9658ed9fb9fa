"""Themes a comment is about (delivery, price, quality ...), from a keyword taxonomy in YAML.

`survey_templates/themes.yaml` lists each theme's name and keywords per language; a keyword
ending in * matches any word starting with it, and keywords may span words ("lead time*").
The file is validated at load: a problem names the file and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

LANGUAGES = ("en", "da", "sv", "nb")


class ThemeError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Theme:
    key: str
    name: dict[str, str]
    patterns: dict[str, re.Pattern]  # language -> one compiled alternation of its keywords


def default_path() -> Path:
    return Path(__file__).resolve().parents[2] / "survey_templates" / "themes.yaml"


@cache
def load_themes(path: str | None = None) -> dict[str, Theme]:
    file = Path(path) if path else default_path()
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ThemeError([f"{file.name}: cannot be read: {exc}"]) from None
    problems: list[str] = []
    themes = (data or {}).get("themes") if isinstance(data, dict) else None
    if not isinstance(themes, dict) or not themes:
        raise ThemeError([f"{file.name}: themes: a mapping of theme keys is required"])
    loaded = {}
    for key, spec in themes.items():
        where = f"{file.name}: themes.{key}"
        if not isinstance(spec, dict):
            problems.append(f"{where}: must be a mapping with name and keywords")
            continue
        name, keywords = spec.get("name"), spec.get("keywords")
        patterns = {}
        for language in LANGUAGES:
            if not isinstance(name, dict) or not isinstance(name.get(language), str):
                problems.append(f"{where}.name.{language}: missing")
            words = keywords.get(language) if isinstance(keywords, dict) else None
            if (
                not isinstance(words, list)
                or not words
                or not all(isinstance(w, str) and w.strip(" *") for w in words)
            ):
                problems.append(f"{where}.keywords.{language}: a non-empty list of words")
                continue
            patterns[language] = _pattern(words)
        loaded[key] = Theme(key, dict(name) if isinstance(name, dict) else {}, patterns)
    if problems:
        raise ThemeError(problems)
    return loaded


def _pattern(words: list[str]) -> re.Pattern:
    parts = []
    for word in sorted({w.strip().lower() for w in words}, key=len, reverse=True):
        stem = word.endswith("*")
        body = re.escape(word.rstrip("*")).replace(r"\ ", r"\s+")
        parts.append(body + (r"\w*" if stem else r"\b"))
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + ")", re.IGNORECASE)


def tag_themes(text: str, language: str, themes: dict[str, Theme] | None = None) -> list[str]:
    """Keys of the themes the comment mentions, in taxonomy order."""
    if not text:
        return []
    themes = themes if themes is not None else load_themes()
    language = language if language in LANGUAGES else "en"
    return [key for key, theme in themes.items() if theme.patterns[language].search(text)]
