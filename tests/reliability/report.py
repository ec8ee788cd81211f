"""Figures gathered by the reliability tests, written to docs/reliability.md after a full, green run.

The file is rewritten only when every reliability module ran and passed and only when its text
changed, and it holds no timestamps or timings, so re-running the tests does not dirty the repo.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPORT = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"


@dataclass
class Figures:
    bad_input: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> kind, message
    cli_cases: list[str] = field(default_factory=list)
    properties: dict[str, int] = field(default_factory=dict)  # property -> examples tried
    kill_points: list[str] = field(default_factory=list)  # description of each survived kill
    quick_kills: list[str] = field(default_factory=list)  # the same, for quick rebuilds
    import_kills: list[str] = field(default_factory=list)
    serve: dict[str, str] = field(default_factory=dict)  # check -> what held
    sinks: dict[str, str] = field(default_factory=dict)  # escaping check -> what held
    types: dict[str, str] = field(default_factory=dict)  # validation check -> what held
    bounds: dict[str, str] = field(default_factory=dict)  # check -> what held (issue 13)
    concurrent_builds: int = 0  # builds of one site started at once, all successful
    failed_builds: list[str] = field(default_factory=list)  # failures that left the site intact
    expected: dict[str, int] = field(default_factory=dict)  # section -> tests it should record
    # issue 13's file system, dev server, cache and check classes: area -> each case that held
    trust: dict[str, list[str]] = field(default_factory=dict)

    def recorded(self) -> dict[str, int]:
        return {
            "bad_input": len(self.bad_input),
            "cli": len(self.cli_cases),
            "properties": len(self.properties),
            "kill": len(self.kill_points),
            "quick": len(self.quick_kills),
            "failed": len(self.failed_builds),
            "import": len(self.import_kills),
            "concurrent": self.concurrent_builds,
            "serve": len(self.serve),
            "sinks": len(self.sinks),
            "types": len(self.types),
            "bounds": len(self.bounds),
        }


FIGURES = Figures()


# What these tests found when they were written, each fixed in the module named.
FINDINGS = (
    "output folder: `--output data` swapped out and deleted the authority file's folder; "
    "`--output config.yaml` and a symlinked `_site` ended in tracebacks (build.py)",
    "two builds of one site at once: the second deleted the first's staging folder, or hit "
    "'database is locked' in the build cache (output.build_lock)",
    "10,000 people on one article: 130 s and 10 GB in co-occurrence (archive.py)",
    "YAML alias bomb as a key: 37 s and 7 GB turning key nodes into text (yamlfile.py); as a "
    "slug: a 200 MB error message (errors.shown)",
    "YAML alias bomb unused or in a list: 20 to 26 s a build, spelling the 43 million values out "
    "for the page fingerprints and error messages; aliases may now add 100,000 values at most "
    "(yamlfile.py)",
    "Markdown: a paragraph of 30,000 characters of unclosed or nested `[` took Python-Markdown a "
    "minute, each `[` searched to its end; a body may now make it search 10 million characters "
    "(markdown_body.slow_link_paragraph)",
    "tracebacks: titles over 255 bytes of slug, slug `index.html`, alias `feed.xml/`, `{{ 1/0 }}` "
    "or a recursive macro in a template, Markdown lists 300 deep, non-UTF-8 config or authority "
    "file, a symlink loop, front matter 5,000 deep in the build cache, a non-UTF-8 template in "
    "the cache's fingerprints",
    "silent: a symlinked folder in content/ was skipped without a word (now a warning); an "
    "Emacs lock file `.#a.md` failed the build (hidden files are now ignored)",
    "dev server: any request resolving outside the site (a symlink in _site/, an absolute path) "
    "deadlocked the server for good, holding its lock while taking it again for the 404 page; "
    "200 concurrent clients stalled on the default listen backlog of 5 (serve.py)",
    "importer: a run killed between writing and recording a file skipped it for good as "
    "foreign; two articles with one title got one URL; an article without a publication was "
    "reported as imported but could not build",
    "escaping: Pagefind's UI inserts filter values as HTML (a person, country, source or "
    "publication name ran as script on search/); Markdown bodies passed raw HTML and "
    "`[x](javascript:...)` links through (also spelled `javascript&#58;`, which Python-Markdown "
    "writes unescaped and the browser decodes); `url: javascript:...` became the Original link "
    "and JSON-LD `isBasedOn`; `base_url` and `--base-url` took any text into canonical links, "
    "feeds and robots.txt, `cname` a second line, `language` markup, `wikidata` a path on "
    "wikidata.org (escape.py, render.py, search.py, config.py, authority.py)",
    "XML: a control character written as a YAML escape (`\\x01`), U+FFFE, or a control "
    "character in a body made every feed carrying it unreadable (text.without_xml_forbidden, at "
    "load)",
    "types: `publication: 5`, `countries: [Russia, 3]`, `url: 5`, `language: no` (false) and an "
    "authority name `5:` became text; a slug ending in a line break passed (`$` matched before "
    "it) and aliases took spaces, quotes and control characters; dates with time zones sorted "
    "as strings, not instants (content.py, authority.py)",
    "file system: a folder that could not be read (content/, static/) or a content folder nested "
    "past PATH_MAX was dropped without a word; a FIFO as config, authority, template, static or "
    "content file hung the build for ever (a FIFO in content/ was dropped); editors' files in "
    "static/ were published and in templates/ crashed serve; symlinks out of the project from "
    "static/ and templates/ were published; a full disk or read-only project ended in a "
    "traceback, and SQLite's `disk is full` discarded the cache as damaged (files.py, build.py)",
    "dev server: any failure but a BuildError (slug `index.html`, `.#article.html` or a dangling "
    "symlink in templates/, a full disk) killed the rebuild thread for good; `feed.xml/` as an alias "
    "passed serve's own path check (not the build's); serve's search refresh indexed in the cache outside "
    "the build lock, colliding with a CLI build; a client that sent half a request held Ctrl-C up; "
    "`//[`, a 300-byte path segment or `?since=` with 5,000 digits gave a traceback (serve.py)",
    "cache: a same-size edit whose mtime was put back was never seen; a damaged `search_shards` "
    "row gave a traceback; a body HTML row holding other text was published as it was; a damaged "
    "page context was dropped without a warning (cache.py, body_edits.py)",
    "check: slug `story.html` (a folder named like a page), links `//[` and `%00` gave a "
    "traceback; a FIFO named `*.html` in the site hung it (check.py)",
    "importer, exponential backtracking: a date-stamp line with ten times '10:00' (minutes), "
    "bylines of names joined by 'and', a boilerplate line of '|'-separated labels; quadratic: "
    "credit lines of spaces, the kicker, the byline separator, mail and handle removal, "
    "'X for Outlet', outlet names inside long words, six caption and caption-credit rules",
    "importer, unbounded: a recursion per line (RecursionError at about 1,000 paragraphs) and "
    "loops over lines that looked to the end of the page from every line (footers, header "
    "pairs, the dek); any exception other than a few kinds ended the whole run with a "
    "traceback and no summary; a FIFO given to import waited for ever; a manifest's 'date: "
    "5' crashed; two imports at once dropped each other's records in raw/imports.json",
    "build: an exception in one article's Markdown was blamed on the template; one raised "
    "while loading a file stopped the build with a traceback; a dev server's rebuild did not "
    "take the build lock, so it could write into a site a CLI build was swapping out",
)


def render() -> str:
    outcomes = Counter(kind for kind, _ in FIGURES.bad_input.values())
    lines = [
        "# Reliability figures",
        "",
        "Written by `python -m pytest tests/reliability` (see `tests/reliability/report.py`);",
        "regenerated only after a full, passing run of that folder.",
        "",
        "## Bad input",
        "",
        f"{len(FIGURES.bad_input)} cases, each a real build asserting its exact outcome: "
        + ", ".join(f"{count} {kind}" for kind, count in sorted(outcomes.items()))
        + ".",
        "No case gave a traceback; every successful build has a page for every non-draft source file.",
        f"{len(FIGURES.cli_cases)} cases also ran through `python build.py` as a subprocess: exit code 1,",
        "the exact `path:line: message` lines on stderr, no traceback.",
        "",
        "| case | outcome | first message asserted |",
        "| --- | --- | --- |",
        *(
            f"| {case} | {kind} | {_cell(message)} |"
            for case, (kind, message) in sorted(FIGURES.bad_input.items())
        ),
        "",
        "## Properties (Hypothesis)",
        "",
        "Random front matter and Markdown through load → model → render → write: only clean",
        "`BuildError`s, and every output path stays inside the site folder.",
        "",
        "| property | examples |",
        "| --- | --- |",
        *(f"| {name} | {count} |" for name, count in sorted(FIGURES.properties.items())),
        "",
        "## Atomic builds",
        "",
        f"{len(FIGURES.kill_points)} builds killed with SIGKILL; after each, the site folder was",
        "byte for byte either the old complete site or the new complete site, and the next build",
        "succeeded. Whether a kill landed before or after the swap varies from run to run.",
        "",
        *(f"- {point}" for point in FIGURES.kill_points),
        "",
        f"{len(FIGURES.quick_kills)} quick rebuilds of body edits to two articles (`body_edits.py`, which",
        "replaces pages in the live site one rename at a time) killed with SIGKILL; after each, every",
        "file of the site was whole, either its old or its new version (no other file but the",
        "writer's own `.*.tmp`), and the next build left the site byte for byte a full build's:",
        "",
        *(f"- {point}" for point in FIGURES.quick_kills),
        "",
        f"{FIGURES.concurrent_builds} builds of one site started at the same moment both succeeded, one",
        "after the other (`output.build_lock`), leaving one complete site.",
        "",
        f"{len(FIGURES.failed_builds)} failed builds over an existing site left it byte for byte and",
        "inode for inode as it was, with no staging folder behind:",
        "",
        *(f"- {failure}" for failure in sorted(FIGURES.failed_builds)),
        "",
        "## Interrupted imports",
        "",
        f"{len(FIGURES.import_kills)} imports killed with SIGKILL: every content file left behind was",
        "byte for byte what a complete import writes, `raw/imports.json` stayed valid JSON, the site",
        "built, a file edited by hand in between was never overwritten, and a final import finished",
        "the rest. A kill between writing a file and recording it no longer makes the importer skip",
        "its own file as foreign.",
        "",
        *(f"- {point}" for point in FIGURES.import_kills),
        "",
        "## What the suite found (fixed)",
        "",
        *(f"- {finding}" for finding in FINDINGS),
        "",
        "## Dev server",
        "",
        "`build.py serve` in a child process, every request to 127.0.0.1, every loop bounded:",
        "",
        *(f"- {FIGURES.serve[key]}" for key in sorted(FIGURES.serve)),
        "",
        *sinks_and_types(),
        *_trust_sections(),
        *bounds_section(),
    ]
    return "\n".join(lines)


def sinks_and_types() -> list[str]:
    """Issue 13, classes 1 and 8 (`test_sinks.py`, `test_types.py`)."""
    return [
        "## Escaping at every sink (issue 13, class 1)",
        "",
        "Threat: the archive is built from scraped pages and published to anyone, so any value",
        "from content, the authority file, config or an import could be a script run in every",
        "visitor's browser, a link that runs one, or a character that makes a feed unreadable.",
        "Each output context has one way in (docs/templates.md, Escaping):",
        "",
        *(f"- {FIGURES.sinks[key]}" for key in sorted(FIGURES.sinks)),
        "",
        "## Validation by type (issue 13, class 8)",
        "",
        "Threat: a value YAML reads as another type (`publication: 5`, `language: no`) silently",
        "turned into text, a path with a control character or line break, dates with zones in",
        "the wrong order:",
        "",
        *(f"- {FIGURES.types[key]}" for key in sorted(FIGURES.types)),
        "",
    ]


def bounds_section() -> list[str]:
    """Issue 13, classes 2, 3 (import sources) and 7: bounded input, isolation, concurrency."""
    return [
        "## Bounded input, isolation and concurrent runs",
        "",
        "Threat: one hostile or unlucky input (a crafted date line, a 100,000-paragraph page, a",
        "FIFO, a manifest of the wrong types, a bug it triggers) hangs a run or ends it without a",
        "summary; two runs at once lose each other's records. What held:",
        "",
        *(f"- {FIGURES.bounds[key]}" for key in sorted(FIGURES.bounds)),
        "",
    ]


_TRUST_THREATS = {
    "file system": "FIFOs, sockets and devices; editors' lock, swap and backup files; symlinks out "
    "of the project; unreadable folders, paths past PATH_MAX, read-only projects and full disks. "
    "Only regular files are opened (`files.read_regular`), and one walk (`files.walk_folder`) "
    "with one predicate (`files.ignored_name`) lists content/, templates/ and static/ for builds, "
    "cached builds and serve.",
    "dev server": "Any failure of a rebuild, a CLI build of the same site, a site replaced under "
    "the server, idle and half-open connections at Ctrl-C, and malformed requests.",
    "cache": "A same-size edit whose mtime was put back (`files.stat_key` adds ctime and inode), "
    "and a damaged row in each table of the build cache (`cache.CacheDamaged`).",
    "check": "`build.py check` over sites with odd slugs, unreadable or odd pages, and "
    "Hypothesis-made link strings.",
}


def _trust_sections() -> list[str]:
    """Issue 13's classes 3-6: what each area covers, and every case that held."""
    lines = []
    for area, threat in _TRUST_THREATS.items():
        cases = sorted(set(FIGURES.trust.get(area, [])))
        lines += [f"## Trust: {area}", "", threat, "", f"{len(cases)} cases held:", ""]
        lines += [f"- {case}" for case in cases]
        lines.append("")
    return lines


def _cell(message: str) -> str:
    """A message as a Markdown table cell (long ones shortened)."""
    if len(message) > 110:
        message = message[:110] + "…"
    return f"`{message}`".replace("|", "\\|") if message else ""


def write_if_complete() -> None:
    recorded = FIGURES.recorded()
    if any(FIGURES.expected.get(section) != count for section, count in recorded.items()):
        return  # only part of the folder ran (-k, a single file): keep the last full report
    text = render()
    if not REPORT.exists() or REPORT.read_text(encoding="utf-8") != text:
        REPORT.write_text(text, encoding="utf-8")
