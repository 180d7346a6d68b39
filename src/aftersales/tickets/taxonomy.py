"""The ticket taxonomy as data: the two axes and the fine tags, loaded from taxonomy.yaml and checked.

Pure: reads a YAML file, touches no database. Every error names the entry and what to fix, so an
administrator who adds tags (the file is meant to grow past 200) learns at load time, not when a
ticket arrives. `load()` reads the shipped file once per process; `parse()` checks any mapping
(a second file, or tags an admin page collects) with the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from aftersales.kit.vocabulary import SCENARIO_GROUPS
from aftersales.kit.yaml_file import read_yaml

TAXONOMY_PATH = Path(__file__).with_name("taxonomy.yaml")
GAP = "…"  # in a keyword: its parts come in order with a few characters or words between them
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
WORD = re.compile(r"^[a-z0-9]+$")
MAX_KEYWORDS = 200  # per language and tag: a longer list is a sign of a tag that should be split
MAX_KEYWORD_CHARS = 60


class TaxonomyError(ValueError):
    """A taxonomy entry that cannot be used; the message names it and says what to fix."""


@dataclass(frozen=True, slots=True)
class Responsibility:
    id: str
    zh: str
    en: str

    def name(self, lang: str) -> str:
        return self.zh if lang.startswith("zh") else self.en


# Same shape as Responsibility and Tag on purpose: three levels of the taxonomy, each its own type.
@dataclass(frozen=True, slots=True)
class Scenario:
    id: str
    group: str  # product | service | experience | consultation | other
    zh: str
    en: str

    def name(self, lang: str) -> str:
        return self.zh if lang.startswith("zh") else self.en


@dataclass(frozen=True, slots=True)
class Tag:
    id: str  # dotted, starts with its scenario's id: product.defect.not_working
    zh: str
    en: str
    scenario: str
    responsibility: str  # the default; order facts may change it
    keywords_zh: tuple[str, ...]
    keywords_en: tuple[str, ...]

    def name(self, lang: str) -> str:
        return self.zh if lang.startswith("zh") else self.en


@dataclass(frozen=True, slots=True)
class Taxonomy:
    responsibilities: tuple[Responsibility, ...]
    scenarios: tuple[Scenario, ...]
    tags: tuple[Tag, ...]
    # Misspelt English words → the word meant, applied before keywords are matched.
    spellings: Mapping[str, str] = field(default_factory=dict)
    # Named word lists that change how a ticket is read: threats, disputes, breakage, … → (zh, en)
    signals: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=dict)
    _tags: dict[str, Tag] = field(init=False, repr=False, compare=False)
    _scenarios: dict[str, Scenario] = field(init=False, repr=False, compare=False)
    _responsibilities: dict[str, Responsibility] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Indexes for the lookups; the dataclass is frozen, so they are set once here.
        object.__setattr__(self, "_tags", {t.id: t for t in self.tags})
        object.__setattr__(self, "_scenarios", {s.id: s for s in self.scenarios})
        object.__setattr__(self, "_responsibilities", {r.id: r for r in self.responsibilities})

    # Lookups -------------------------------------------------------------------------------------
    def tag(self, tag_id: str) -> Tag:
        try:
            return self._tags[tag_id]
        except KeyError:
            raise KeyError(f"no tag {tag_id!r} in the taxonomy") from None

    def scenario(self, scenario_id: str) -> Scenario:
        try:
            return self._scenarios[scenario_id]
        except KeyError:
            raise KeyError(f"no scenario {scenario_id!r} in the taxonomy") from None

    def responsibility(self, responsibility_id: str) -> Responsibility:
        try:
            return self._responsibilities[responsibility_id]
        except KeyError:
            raise KeyError(f"no responsibility {responsibility_id!r} in the taxonomy") from None

    def has_tag(self, tag_id: str) -> bool:
        return tag_id in self._tags

    def has_scenario(self, scenario_id: str) -> bool:
        return scenario_id in self._scenarios

    def has_responsibility(self, responsibility_id: str) -> bool:
        return responsibility_id in self._responsibilities

    def tags_of(self, scenario_id: str) -> list[Tag]:
        return [t for t in self.tags if t.scenario == scenario_id]

    def group_of(self, scenario_id: str) -> str:
        return self.scenario(scenario_id).group

    @property
    def scenario_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.scenarios)

    @property
    def responsibility_ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.responsibilities)

    def with_tags(self, extra: Iterable[Mapping[str, Any]]) -> Taxonomy:
        """This taxonomy plus more tags (e.g. an administrator's), checked with the same rules."""
        added = tuple(_parse_tag(e, i, self._scenarios, self._responsibilities) for i, e in enumerate(extra))
        taken = set(self._tags)
        for tag in added:
            if tag.id in taken:
                raise TaxonomyError(f"tag {tag.id!r}: the id is already used; tag ids must be unique")
            taken.add(tag.id)
        return Taxonomy(self.responsibilities, self.scenarios, self.tags + added, self.spellings, self.signals)

    def signal(self, name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The (zh, en) words of a signal; empty when the file does not define it."""
        return self.signals.get(name, ((), ()))


# --- parsing ---------------------------------------------------------------------------------------
def _text(entry: Mapping[str, Any], name: str, where: str) -> str:
    value = entry.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > 120:
        raise TaxonomyError(f"{where}: {name} must be a name of 1–120 characters")
    return value.strip()


def _identifier(entry: Any, where: str) -> str:
    if not isinstance(entry, Mapping):
        raise TaxonomyError(f"{where}: an entry is a mapping with id, zh and en")
    value = entry.get("id")
    if not isinstance(value, str) or not ID_PATTERN.match(value) or len(value) > 80:
        raise TaxonomyError(f"{where}: id {value!r} must be dotted lower-case words, e.g. product.defect.not_working")
    return value


def _keywords(entry: Mapping[str, Any], lang: str, where: str) -> tuple[str, ...]:
    block = entry.get("keywords", {})
    if not isinstance(block, Mapping):
        raise TaxonomyError(f"{where}: keywords must be a mapping with zh and en lists")
    unknown = set(block) - {"zh", "en"}
    if unknown:
        raise TaxonomyError(
            f"{where}: keywords has unknown languages {', '.join(sorted(map(str, unknown)))}; use zh, en"
        )
    words = block.get(lang) or []
    if not isinstance(words, list) or len(words) > MAX_KEYWORDS:
        raise TaxonomyError(f"{where}: keywords.{lang} must be a list of at most {MAX_KEYWORDS} texts")
    out: list[str] = []
    for word in words:
        if not isinstance(word, str) or not word.strip() or len(word) > MAX_KEYWORD_CHARS:
            raise TaxonomyError(
                f"{where}: keywords.{lang} holds {word!r}; give texts of 1–{MAX_KEYWORD_CHARS} characters"
                " (in YAML, quote yes, no, on, off and numbers)"
            )
        if word.strip().lower() in (w.lower() for w in out):
            raise TaxonomyError(f"{where}: keywords.{lang} lists {word!r} twice")
        out.append(word.strip())
    return tuple(out)


def _parse_tag(
    entry: Any, index: int, scenarios: Mapping[str, Scenario], responsibilities: Mapping[str, Responsibility]
) -> Tag:
    where = f"tag #{index + 1}"
    tag_id = _identifier(entry, where)
    where = f"tag {tag_id!r}"
    unknown = set(entry) - {"id", "zh", "en", "scenario", "responsibility", "keywords"}
    if unknown:
        raise TaxonomyError(f"{where}: unknown fields {', '.join(sorted(map(str, unknown)))}")
    scenario = entry.get("scenario")
    if scenario not in scenarios:
        raise TaxonomyError(f"{where}: scenario {scenario!r} does not exist; use one of {', '.join(scenarios)}")
    if not tag_id.startswith(f"{scenario}."):
        raise TaxonomyError(f"{where}: the id must start with its scenario, e.g. {scenario}.<name>")
    responsibility = entry.get("responsibility")
    if responsibility not in responsibilities:
        raise TaxonomyError(
            f"{where}: responsibility {responsibility!r} does not exist; use one of {', '.join(responsibilities)}"
        )
    return Tag(
        id=tag_id,
        zh=_text(entry, "zh", where),
        en=_text(entry, "en", where),
        scenario=scenario,
        responsibility=responsibility,
        keywords_zh=_keywords(entry, "zh", where),
        keywords_en=_keywords(entry, "en", where),
    )


def parse(data: Any) -> Taxonomy:
    """Check a taxonomy mapping (responsibilities, scenarios, tags); TaxonomyError names the bad entry."""
    if not isinstance(data, Mapping):
        raise TaxonomyError("the taxonomy is a mapping with responsibilities, scenarios and tags")
    unknown = set(data) - {"responsibilities", "scenarios", "tags", "spellings", "signals"}
    if unknown:
        raise TaxonomyError(f"unknown sections {', '.join(sorted(map(str, unknown)))}")
    for section in ("responsibilities", "scenarios", "tags"):
        if not isinstance(data.get(section), list) or not data[section]:
            raise TaxonomyError(f"{section}: give a non-empty list")
    responsibilities: dict[str, Responsibility] = {}
    for i, entry in enumerate(data["responsibilities"]):
        rid = _identifier(entry, f"responsibility #{i + 1}")
        if rid in responsibilities:
            raise TaxonomyError(f"responsibility {rid!r}: the id is used twice")
        where = f"responsibility {rid!r}"
        responsibilities[rid] = Responsibility(rid, _text(entry, "zh", where), _text(entry, "en", where))
    scenarios: dict[str, Scenario] = {}
    for i, entry in enumerate(data["scenarios"]):
        sid = _identifier(entry, f"scenario #{i + 1}")
        where = f"scenario {sid!r}"
        if sid in scenarios:
            raise TaxonomyError(f"{where}: the id is used twice")
        group = entry.get("group")
        if group not in SCENARIO_GROUPS:
            raise TaxonomyError(f"{where}: group {group!r} is not one of {', '.join(SCENARIO_GROUPS)}")
        scenarios[sid] = Scenario(sid, group, _text(entry, "zh", where), _text(entry, "en", where))
    tags: list[Tag] = []
    seen: set[str] = set()
    for i, entry in enumerate(data["tags"]):
        tag = _parse_tag(entry, i, scenarios, responsibilities)
        if tag.id in seen:
            raise TaxonomyError(f"tag {tag.id!r}: the id is used twice; tag ids must be unique")
        if tag.id in scenarios:
            raise TaxonomyError(f"tag {tag.id!r}: a tag cannot have a scenario's id")
        seen.add(tag.id)
        tags.append(tag)
    return Taxonomy(
        tuple(responsibilities.values()),
        tuple(scenarios.values()),
        tuple(tags),
        _spellings(data.get("spellings", {})),
        _signals(data.get("signals", {})),
    )


def _signals(data: Any) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    if not isinstance(data, Mapping):
        raise TaxonomyError("signals: give a mapping of name → {zh: [...], en: [...]}")
    out: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    for name, words in data.items():
        entry = {"keywords": words}
        where = f"signal {name!r}"
        out[str(name)] = (_keywords(entry, "zh", where), _keywords(entry, "en", where))
    return out


def _spellings(data: Any) -> dict[str, str]:
    if not isinstance(data, Mapping):
        raise TaxonomyError("spellings: give a mapping of misspelt word → word")
    out: dict[str, str] = {}
    for wrong, right in data.items():
        if not (isinstance(wrong, str) and isinstance(right, str) and WORD.match(wrong) and WORD.match(right)):
            raise TaxonomyError(f"spellings: {wrong!r} → {right!r}; give single lower-case words (quote yes/no/on/off)")
        out[wrong] = right
    return out


def read(path: Path) -> Taxonomy:
    return parse(read_yaml(path, "the taxonomy", TaxonomyError))


@lru_cache(maxsize=1)
def load() -> Taxonomy:
    """The shipped taxonomy, read and checked once per process."""
    return read(TAXONOMY_PATH)
