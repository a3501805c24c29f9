"""The catalog a clinic routes against: languages, topics, experts, tables and labelled examples.

Plain immutable values, so the router can be fitted from the database (through the store) or
from a catalog folder on disk (the CLI, the tests) alike.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from matching.limits import TOPIC_ID_PATTERN


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    native_name: str
    direction: str = "ltr"


@dataclass(frozen=True)
class Topic:
    id: str
    name: str
    description: str = ""
    keywords: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)
    descriptions: Mapping[str, str] = field(default_factory=dict)
    active: bool = True

    def name_in(self, language: str | None) -> str:
        return self.names.get(language or "", "") or self.name

    def description_in(self, language: str | None) -> str:
        return self.descriptions.get(language or "", "") or self.description


@dataclass(frozen=True)
class Expert:
    id: str
    name: str
    affiliation: str = ""
    topics: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    expertise: str = ""
    capacity: int = 6
    present: bool = True
    table: int | None = None


@dataclass(frozen=True)
class Table:
    number: int
    topic: str
    capacity: int = 8


@dataclass(frozen=True)
class Example:
    """A challenge whose topic is known: a shipped sample or a facilitator-confirmed seat."""

    text: str
    topic: str
    language: str | None = None
    id: str = ""


@dataclass(frozen=True)
class Catalog:
    languages: tuple[Language, ...]
    topics: tuple[Topic, ...]
    experts: tuple[Expert, ...] = ()
    tables: tuple[Table, ...] = ()
    examples: tuple[Example, ...] = ()

    @property
    def language_codes(self) -> tuple[str, ...]:
        return tuple(language.code for language in self.languages)

    @property
    def active_topics(self) -> tuple[Topic, ...]:
        return tuple(topic for topic in self.topics if topic.active)

    def topic(self, topic_id: str) -> Topic:
        return next(topic for topic in self.topics if topic.id == topic_id)

    def expert(self, expert_id: str) -> Expert:
        return next(expert for expert in self.experts if expert.id == expert_id)

    def hosts(self, table_number: int) -> tuple[Expert, ...]:
        """The experts present who host this table."""
        return tuple(e for e in self.experts if e.table == table_number and e.present)

    def problems(self) -> list[str]:
        """What makes this catalog unusable, in words an organizer understands (empty when fine)."""
        found: list[str] = []
        topic_ids = [topic.id for topic in self.topics]
        codes = set(self.language_codes)
        found += [f"Topic id '{t}' is used twice." for t in sorted({t for t in topic_ids if topic_ids.count(t) > 1})]
        found += [
            f"Topic id '{t}' must be lower-case letters, digits, '-' or '_'."
            for t in topic_ids
            if not re.fullmatch(TOPIC_ID_PATTERN, t)
        ]
        if not self.active_topics:
            found.append("There is no active topic to route to.")
        expert_ids = [expert.id for expert in self.experts]
        found += [f"Expert '{e}' is listed twice." for e in sorted({e for e in expert_ids if expert_ids.count(e) > 1})]
        numbers = [table.number for table in self.tables]
        found += [f"Table {n} is listed twice." for n in sorted({n for n in numbers if numbers.count(n) > 1})]
        for table in self.tables:
            if table.topic not in topic_ids:
                found.append(f"Table {table.number} names topic '{table.topic}', which does not exist.")
            if table.capacity < 1:
                found.append(f"Table {table.number} has capacity {table.capacity}; it needs at least 1 seat.")
        for expert in self.experts:
            if expert.table is not None and expert.table not in numbers:
                found.append(f"Expert '{expert.name}' hosts table {expert.table}, which does not exist.")
            found += [
                f"Expert '{expert.name}' speaks '{code}', which is not one of the clinic's languages."
                for code in expert.languages
                if code not in codes
            ]
            found += [
                f"Expert '{expert.name}' names topic '{t}', which does not exist."
                for t in expert.topics
                if t not in topic_ids
            ]
        for example in self.examples:
            if example.topic not in topic_ids:
                found.append(f"Example '{example.id or example.text[:30]}' names unknown topic '{example.topic}'.")
        return found


def expert_id_for(name: str) -> str:
    """A stable id from an expert's name ("Emna Mizouni" -> "emna-mizouni")."""
    return re.sub(r"[^\w]+", "-", name.casefold()).strip("-")


def _as_tuple(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(";") if part.strip())
    return tuple(str(part).strip() for part in value if str(part).strip())


def read_examples(paths: Iterable[Path]) -> tuple[Example, ...]:
    """Labelled challenges from CSV files with columns id, language, topic, text."""
    examples: list[Example] = []
    for path in paths:
        with open(path, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                examples.append(
                    Example(
                        text=row["text"],
                        topic=row["topic"].strip(),
                        language=(row.get("language") or "").strip() or None,
                        id=(row.get("id") or "").strip(),
                    )
                )
    return tuple(examples)


def load_catalog(folder: str | Path) -> Catalog:
    """Read a catalog folder: catalog.yaml, topics/<language>.yaml and samples/*.csv."""
    folder = Path(folder)
    spec = yaml.safe_load((folder / "catalog.yaml").read_text(encoding="utf-8"))
    per_language = {}
    for path in sorted((folder / "topics").glob("*.yaml")):
        localized = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        per_language[localized.get("language", path.stem)] = localized.get("topics") or {}
    topics = []
    for entry in spec["topics"]:
        topic_id = entry["id"]
        localized = {code: spec_topics.get(topic_id) or {} for code, spec_topics in per_language.items()}
        topics.append(
            Topic(
                id=topic_id,
                name=entry["name"],
                description=entry.get("description", ""),
                keywords={code: _as_tuple(t.get("keywords")) for code, t in localized.items() if t.get("keywords")},
                names={code: t["name"] for code, t in localized.items() if t.get("name")},
                descriptions={code: t["description"] for code, t in localized.items() if t.get("description")},
                active=bool(entry.get("active", True)),
            )
        )
    return Catalog(
        languages=tuple(Language(**entry) for entry in spec["languages"]),
        topics=tuple(topics),
        experts=tuple(
            Expert(
                id=entry.get("id") or expert_id_for(entry["name"]),
                name=entry["name"],
                affiliation=entry.get("affiliation", ""),
                topics=_as_tuple(entry.get("topics")),
                languages=_as_tuple(entry.get("languages")),
                expertise=entry.get("expertise", ""),
                capacity=int(entry.get("capacity", 6)),
                present=bool(entry.get("present", True)),
                table=entry.get("table"),
            )
            for entry in spec.get("experts") or []
        ),
        tables=tuple(Table(**entry) for entry in spec.get("tables") or []),
        examples=read_examples(sorted((folder / "samples").glob("*.csv"))),
    )
