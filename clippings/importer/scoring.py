"""Score the importer against gold annotations in the devset format (`*.txt` + `*.gold.json`).

The gold URL and publication (or the folder's `manifest.json`) are given to the importer as a
manifest would give them; the date, title, authors and tags are the importer's own. A gold file
may hold only some fields (a people-only set): only the fields present are scored and reported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from clippings.importer.extract import Extracted, Extractor, Meta
from clippings.text import slugify

NAME_FIELDS = ("people", "countries", "sources", "authors")
TARGETS = {"people": 0.95, "countries": 0.95, "sources": 0.92}


@dataclass
class Tally:
    true_pos: int = 0
    false_pos: int = 0
    false_neg: int = 0

    @property
    def precision(self) -> float:
        found = self.true_pos + self.false_pos
        return self.true_pos / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_pos + self.false_neg
        return self.true_pos / wanted if wanted else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Rate:
    hits: int = 0
    total: int = 0

    def add(self, hit: bool) -> None:
        self.hits += hit
        self.total += 1

    def __str__(self) -> str:
        return f"{self.hits}/{self.total}"


@dataclass
class Score:
    files: int = 0
    scored: set[str] = field(default_factory=set)
    names: dict[str, Tally] = field(default_factory=lambda: {f: Tally() for f in NAME_FIELDS})
    rates: dict[str, Rate] = field(
        default_factory=lambda: {k: Rate() for k in ("title", "date", "body first", "body last")}
    )
    leaked: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    def meets_targets(self) -> bool:
        exact = all(rate.hits == rate.total for rate in self.rates.values())
        good = all(self.names[f].f1 >= target for f, target in TARGETS.items() if f in self.scored)
        return exact and good and not self.leaked and not self.lost

    def report(self) -> str:
        lines = [f"{self.files} files", "field       precision  recall  F1"]
        for name, tally in self.names.items():
            if name in self.scored:
                lines.append(
                    f"{name:<11} {tally.precision:9.3f}  {tally.recall:6.3f}  {tally.f1:.3f}"
                )
        lines += [f"{name} exact: {rate}" for name, rate in self.rates.items() if rate.total]
        if "body" in self.scored:
            lines.append(f"boilerplate lines leaked into bodies: {len(self.leaked)}")
            lines.append(f"body lines lost: {len(self.lost)}")
        return "\n".join(lines + [f"  {miss}" for miss in self.misses])


def _key(name: str) -> str:
    """Names match case-, accent- and hyphen-insensitively."""
    return slugify(name).replace("-", "")


def gold_body(lines: list[str], gold: dict) -> list[str]:
    """The gold body: raw lines from the first to the last body line, minus the other groups."""
    first = gold.get("body_first_line_raw") or gold["body_first_line"]
    start, end = lines.index(first), len(lines) - 1 - lines[::-1].index(gold["body_last_line"])
    others = (
        set(gold["boilerplate_lines"]) | set(gold["captions"]) | set(gold.get("credit_lines") or [])
    )
    body = [line for line in lines[start : end + 1] if line not in others]
    body[0] = gold["body_first_line"]
    return body


def score_file(extracted: Extracted, raw: str, gold: dict, name: str, score: Score) -> None:
    score.files += 1
    for field_name in NAME_FIELDS:
        if field_name not in gold:
            continue
        score.scored.add(field_name)
        got = {_key(n) for n in getattr(extracted, field_name)}
        want = {_key(n) for n in gold[field_name]}
        tally = score.names[field_name]
        tally.true_pos += len(got & want)
        tally.false_pos += len(got - want)
        tally.false_neg += len(want - got)
        if got != want:
            score.misses.append(
                f"{name}: {field_name} extra {sorted(got - want)} missing {sorted(want - got)}"
            )
    checks = {
        "title": (gold.get("title"), extracted.title),
        "date": (gold.get("date"), extracted.date.isoformat() if extracted.date else None),
        "body first": (gold.get("body_first_line"), extracted.body[0] if extracted.body else None),
        "body last": (gold.get("body_last_line"), extracted.body[-1] if extracted.body else None),
    }
    for check, (want, got) in checks.items():
        if want is not None:
            score.rates[check].add(want == got)
            if want != got:
                score.misses.append(f"{name}: {check} {got!r} != {want!r}")
    if "body_last_line" not in gold:
        return
    score.scored.add("body")
    lines = [line.strip() for line in raw.splitlines() if line.strip()]
    body = set(extracted.body)
    score.leaked += [f"{name}: {line}" for line in gold["boilerplate_lines"] if line in body]
    score.lost += [f"{name}: {line}" for line in gold_body(lines, gold) if line not in body]


def _manifest_publications(folder: Path) -> dict[str, str]:
    """Publication per text file from the folder's `manifest.json`, when it has one."""
    path = folder / "manifest.json"
    if not path.exists():
        return {}
    entries = json.loads(path.read_text(encoding="utf-8"))
    return {e["text"]: e["publication"] for e in entries if e.get("publication")}


def score_folder(folder: Path, extractor: Extractor) -> Score:
    score = Score()
    publications = _manifest_publications(folder)
    for gold_path in sorted(folder.glob("*.gold.json")):
        text_path = gold_path.with_name(gold_path.name.removesuffix(".gold.json") + ".txt")
        if not text_path.exists():
            continue
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        raw = text_path.read_text(encoding="utf-8")
        extracted = extractor.extract(
            raw,
            Meta(
                url=gold.get("url"),
                publication=gold.get("publication") or publications.get(text_path.name),
            ),
        )
        score_file(extracted, raw, gold, text_path.name, score)
    return score
