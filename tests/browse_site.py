"""A small archive for the browsing features: five years of articles, more than ten names that
appear with Vladimir Putin, countries the map has no shape for (the Soviet Union, Ruritania), an
article in French and one with captions placed among its paragraphs. Deterministic."""

from __future__ import annotations

from pathlib import Path

PEOPLE = [
    "Vladimir Putin",
    "Kim Jong Un",
    "Sergei Lavrov",
    "Donald Trump",
    "Xi Jinping",
    "Moon Jae-in",
    "Shinzo Abe",
    "Angela Merkel",
    "Emmanuel Macron",
    "Recep Tayyip Erdoğan",
    "Narendra Modi",
    "Joe Biden",
    "Olaf Scholz",
]
COUNTRIES = [
    "Russia",
    "North Korea",
    "China",
    "United States",
    "South Korea",
    "Japan",
    "Germany",
    "France",
    "Turkey",
    "India",
    "Brazil",
    "Soviet Union",
    "Ruritania",
]
SOURCES = ["KCNA", "TASS", "Reuters", "Yonhap"]
PUBLICATIONS = ["The Daily Record", "Reuters", "Le Monde"]

AUTHORITY = """\
people:
  Kim Jong Un:
    aliases: [Kim Jong-un]
    family_name_first: true
    description: Supreme Leader of North Korea.
  Xi Jinping:
    family_name_first: true
  Moon Jae-in:
    family_name_first: true
  Recep Tayyip Erdoğan:
    sort_name: Erdoğan, Recep Tayyip
countries:
  North Korea:
    aliases: [DPRK]
    iso: KP
  Ruritania:
    description: A kingdom of fiction; the map has no shape for it.
sources:
  Reuters:
    aliases: [Reuters News]
"""

CONFIG = """\
title: Browsing test archive
description: Press coverage for the browsing tests.
base_url: https://example.org/repo/
language: en
authority: data/entities.yaml
per_page: 10
term_per_page: 10
"""


def _article(index: int) -> tuple[str, str]:
    year = 2016 + index % 5
    month = 1 + (index * 7) % 12
    day = 1 + index % 27
    people = [PEOPLE[0], *[PEOPLE[1 + (index + k) % (len(PEOPLE) - 1)] for k in range(3)]]
    if index % 3 == 0:
        people = people[1:]
    countries = [COUNTRIES[(index * 3 + k) % len(COUNTRIES)] for k in range(1 + index % 3)]
    sources = [SOURCES[index % len(SOURCES)]]
    front = [
        "---",
        f'title: "Report {index}: {people[0]} and {countries[0]}"',
        f"slug: report-{index}",
        f"date: {year}-{month:02d}-{day:02d}",
        f'publication: "{PUBLICATIONS[index % len(PUBLICATIONS)]}"',
        "people: [" + ", ".join(f'"{p}"' for p in dict.fromkeys(people)) + "]",
        "countries: [" + ", ".join(f'"{c}"' for c in dict.fromkeys(countries)) + "]",
        "sources: [" + ", ".join(f'"{s}"' for s in sources) + "]",
        f"authors: [Reporter {index % 4}]",
        f"url: https://news.example.org/{year}/report-{index}",
    ]
    paragraphs = [
        f"Paragraph {n} of report {index} says {people[0]} met officials from {countries[0]}, "
        "according to people familiar with the talks, and that [the statement](https://example.org/"
        f"statement-{index}) followed."
        for n in range(1, 5)
    ]
    if index == 7:
        front += [
            "captions:",
            "  - text: The delegations before the talks, in the capital.",
            "    after: 1",
            "  - text: A second photograph, placed after the third paragraph.",
            "    after: 3",
        ]
    if index == 5:  # a person named once: the term page says so in a sentence, no chart
        front[5] = front[5].replace("[", '["Alexei Navalny", ', 1)
    if index == 11:
        front[1] = 'title: "Poutine reçoit Kim Jong Un à Vladivostok"'
        front.append("language: fr")
        paragraphs = [
            "Le président russe a reçu le dirigeant nord-coréen pour des entretiens.",
            "Les deux dirigeants ont parlé de coopération économique.",
        ]
    text = "\n".join([*front, "---", "", "\n\n".join(paragraphs), ""])
    return f"{year}/report-{index}.md", text


def write_browse_site(root: Path, articles: int = 60) -> Path:
    """Write the site's config, authority file and content under `root`; returns config.yaml."""
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "data" / "entities.yaml").write_text(AUTHORITY, encoding="utf-8")
    (root / "config.yaml").write_text(CONFIG, encoding="utf-8")
    for index in range(articles):
        name, text = _article(index)
        path = root / "content" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "config.yaml"
