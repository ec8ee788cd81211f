"""Bad input, table-driven: every case is a real build of a small site, asserting its exact outcome.

A case is either an error (the exact `path:line: message` lines, nothing else) or a successful build
(its exact warnings), never a traceback. A successful build must have a page for every non-draft
source file, so no article goes missing silently.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from clippings.build import build_site
from clippings.config import load_config
from clippings.errors import BuildError
from clippings.render import SLOW_LINKS
from tests.conftest import REPO
from tests.reliability.report import FIGURES

FileData = str | bytes | Callable[[], str]

VALID = "title: A Title\ndate: 2018-08-15\npublication: Newsweek\n"
A = "content/2018/a.md"


def article(front: str = VALID, body: str = "Body text.\n") -> str:
    return f"---\n{front}---\n{body}"


def with_template(name: str, text: str) -> dict[str, FileData]:
    return {f"templates/{name}": text, A: article()}


def big_article() -> str:
    """About 50 MB of ordinary paragraphs."""
    paragraph = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 15 + "\n\n"
    return article(body=paragraph * 58_000)


def many_tags() -> str:
    names = ", ".join(f"Person {i}" for i in range(10_000))
    return article(VALID + f"people: [{names}]\n")


@dataclass(frozen=True)
class Case:
    """One bad input: the files of the site and the exact problems (or warnings) it must give."""

    id: str
    files: dict[str, FileData]
    errors: tuple[str, ...] = ()  # empty: the build must succeed
    warnings: tuple[str, ...] = ()
    symlinks: dict[str, str] = field(default_factory=dict)  # link -> target, site-relative
    check: Callable[[Path], None] | None = None  # extra assertions on the built site
    cli: bool = False  # also run through `python build.py`

    @property
    def outcome(self) -> tuple[str, str]:
        """Kind of outcome and the first message asserted, for the report."""
        if self.errors:
            return "error", self.errors[0]
        if self.warnings:
            return "built with warning", self.warnings[0]
        return "built", ""


def page(site: Path, path: str) -> str:
    return (site / "_site" / path / "index.html").read_text(encoding="utf-8")


def title_is_text(site: Path) -> None:
    html = page(site, "2018/7-7-script-x-script")
    assert "{{ 7*7 }} &lt;script&gt;x&lt;/script&gt;" in html
    assert "{{ 8*8 }} {% if %}" in html
    assert "<script>x</script>" not in html


def unicode_term_pages(site: Path) -> None:
    assert "Erdoğan" in page(site, "people/erdogan")
    assert "金正恩" in page(site, "people/金正恩")


def long_slug_cut(site: Path) -> None:
    folders = [p.name for p in (site / "_site" / "2018").iterdir() if p.is_dir()]
    assert folders == ["word-" * 23 + "word"]


def output_link_kept(site: Path) -> None:
    assert (site / "_site").is_symlink()
    assert (site / "public" / "2018" / "a-title" / "index.html").is_file()
    leftovers = [p.name for p in site.iterdir() if p.name.startswith(("._site", ".public"))]
    assert leftovers == []  # no staging or previous folder


def script_body_passes_through(site: Path) -> None:
    # Markdown allows raw HTML: the article body is the author's own, titles are escaped.
    assert "<p>Body &lt;b&gt;</p>" in page(site, "2018/a-title")


# "Billion laughs": each anchor holds nine of the one before, *h stands for 9^8 = 43 million x's.
ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
    for previous, name in zip("abcdefg", "bcdefgh", strict=True)
)
SYNTAX = "YAML syntax error"
BOMB = "YAML error: aliases here expand to more than 100,000 values"
BAD_SLUG = "must be letters, digits, '-', '_' or '.' (no '/', '..' or NUL)"
CONFLICT = "to be a folder, but a page is written there"

CASES = [
    # --- YAML
    Case(
        "broken-yaml",
        {A: article(VALID + "people: [a\n")},
        (f"{A}:6: {SYNTAX}: did not find expected ',' or ']'",),
        cli=True,
    ),
    Case(
        "tab-indentation",
        {A: article("title: X\n\tdate: 2018-01-01\npublication: P\n")},
        (f"{A}:3: {SYNTAX}: found a tab character that violates indentation",),
    ),
    Case(
        "tab-in-list",
        {A: article(VALID + "people:\n\t- A\n")},
        (f"{A}:6: {SYNTAX}: found character that cannot start any token",),
    ),
    Case(
        "duplicate-key",
        {A: article(VALID + "title: Again\n")},
        (f"{A}:5: duplicate key 'title' (first given on line 2)",),
    ),
    Case(
        "python-tag",
        {A: article(VALID + "x: !!python/object/apply:os.system ['echo hi']\n")},
        (
            f"{A}:5: {SYNTAX}: could not determine a constructor for the tag "
            "'tag:yaml.org,2002:python/object/apply:os.system'",
        ),
    ),
    Case(
        "unhashable-key",
        {A: article(VALID + "? [a, b]\n: x\n")},
        (f"{A}:5: {SYNTAX}: found unhashable key",),
    ),
    Case(
        "control-character",
        {A: article('title: "a\x07b"\ndate: 2018-01-01\npublication: P\n')},
        (f"{A}:2: {SYNTAX}: control characters are not allowed (character #x0007)",),
    ),
    Case(
        "front-matter-is-a-list",
        {A: article("- a list\n")},
        (f"{A}:2: expected a mapping of keys to values",),
    ),
    Case(
        "no-closing-fence",
        {A: "---\n" + VALID},
        (f"{A}:1: missing front matter: the file must start with a '---' line",),
    ),
    Case(
        "no-front-matter",
        {A: "Just a body.\n"},
        (f"{A}:1: missing front matter: the file must start with a '---' line",),
    ),
    # --- front matter values
    Case(
        "date-2019-02-30",
        {A: article(VALID.replace("2018-08-15", "2019-02-30"))},
        (f"{A}:3: front matter: 'date' '2019-02-30' is not a valid ISO date (YYYY-MM-DD)",),
        cli=True,
    ),
    Case(
        "date-year-only",
        {A: article("title: A\ndate: 2018\npublication: P\n")},
        (f"{A}:3: front matter: 'date' must be an ISO date such as 2018-08-15, not 2018",),
    ),
    Case(
        "date-hour-25",
        {A: article("title: A\ndate: 2018-01-01T25:00:00\npublication: P\n")},
        (
            f"{A}:3: front matter: 'date' '2018-01-01T25:00:00' is not a valid ISO date (YYYY-MM-DD)",
        ),
    ),
    Case(
        "list-given-as-string",
        {A: article(VALID + "people: Putin\n")},
        (
            f"{A}:5: front matter: 'people' must be a list of names, not a single string (write [Putin])",
        ),
    ),
    Case(
        "captions-as-string",
        {A: article(VALID + "captions: hello\n")},
        (
            f"{A}:5: front matter: 'captions' must be a list of text lines or of {{text, after}} entries",
        ),
    ),
    Case(
        "title-is-blank",
        {A: article("title: '   '\ndate: 2018-01-01\npublication: P\n")},
        (f"{A}:2: front matter: 'title' must be non-empty text",),
    ),
    Case(
        "yaml-nested-5000-deep",
        {A: article(VALID + "x: " + "[" * 5000 + "]" * 5000 + "\n")},
        (f"{A}:5: {SYNTAX}: exceeded maximum nesting depth",),  # libyaml >= 0.2.6 stops at 1,000
    ),
    Case("yaml-alias-bomb-unused", {A: article(VALID + ALIAS_BOMB)}, (f"{A}:12: {BOMB}",)),
    Case(
        "yaml-alias-bomb-as-key",
        {A: article(VALID + ALIAS_BOMB + "? *h\n: x\n")},
        (f"{A}:12: {BOMB}",),
    ),
    Case(
        "yaml-alias-bomb-as-slug",
        {A: article(VALID + ALIAS_BOMB + "slug: *h\n")},
        (f"{A}:12: {BOMB}",),
    ),
    Case(
        "yaml-alias-bomb-in-people",
        {A: article(VALID + ALIAS_BOMB + "people: [*h]\n")},
        (f"{A}:13: {BOMB}",),  # the entry that grows most
    ),
    Case(
        "title-is-a-list",
        {A: article("title: [a]\ndate: 2018-01-01\npublication: P\n")},
        (f"{A}:2: front matter: 'title' must be non-empty text, not a list",),
    ),
    Case(
        "draft-not-boolean",
        {A: article(VALID + "draft: 1\n")},
        (f"{A}:5: front matter: 'draft' must be true or false",),
    ),
    Case(
        "missing-required-keys",
        {A: article("summary: only this\n")},
        (
            f"{A}:1: front matter: missing required 'date'",
            f"{A}:1: front matter: missing required 'publication'",
            f"{A}:1: front matter: missing required 'title'",
        ),
    ),
    # --- files
    Case("empty-file", {A: ""}, (f"{A}: empty file",)),
    Case("only-front-matter", {A: "---\n" + VALID + "---\n"}),
    Case(
        "binary-file",
        {A: b"\x00\x01\x02binary"},
        (f"{A}: binary file (contains NUL bytes); expected UTF-8 text",),
    ),
    Case(
        "non-utf8-bytes",
        {A: b"---\ntitle: caf\xe9\ndate: 2018-01-01\npublication: P\n---\n"},
        (f"{A}:2: not valid UTF-8 (byte 0xe9); save the file as UTF-8",),
        cli=True,
    ),
    Case(
        "utf16-file",
        {A: article().encode("utf-16")},
        (f"{A}: saved as UTF-16; save the file as UTF-8",),
    ),
    Case("bom", {A: "\ufeff" + article()}),
    Case("crlf-line-ends", {A: article().replace("\n", "\r\n")}),
    Case("cr-only-line-ends", {A: article().replace("\n", "\r")}),
    Case("article-of-50-mb", {A: big_article}),
    Case(
        "10000-tags",
        {A: many_tags, "config.yaml": "feeds: false\n"},  # no feeds: half the 20,000 pages
        warnings=(
            f"{A}: warning: names 10000 people, countries and sources; articles naming more "
            "than 200 are left out of 'appears with' lists",
        ),
    ),
    Case(
        "markdown-nested-too-deep",
        {A: article(body="".join("    " * i + "- x\n" for i in range(300)))},
        (f"{A}:6: Markdown is nested too deeply (lists or quotes) to convert",),
    ),
    Case(
        "markdown-brackets-unclosed",  # took 55 s: Python-Markdown seeks each '[''s end
        {A: article(body="First [sic].\n\n" + "[a[b[c" * 5000 + "\n")},
        (f"{A}:8: {SLOW_LINKS}",),
    ),
    Case("unicode-file-name", {"content/2018/金正恩 Erdoğan.md": article()}),
    # --- slugs and URLs
    Case(
        "slug-with-dotdot",
        {A: article(VALID + "slug: ../evil\n")},
        (f"{A}:5: front matter: 'slug' '../evil' {BAD_SLUG}",),
    ),
    Case(
        "slug-with-slash",
        {A: article(VALID + "slug: a/b\n")},
        (f"{A}:5: front matter: 'slug' 'a/b' {BAD_SLUG}",),
    ),
    Case(
        "slug-with-nul",
        {A: article(VALID + 'slug: "a\\0b"\n')},
        (f"{A}:5: front matter: 'slug' 'a\\x00b' {BAD_SLUG}",),
    ),
    Case(
        "slug-too-long",
        {A: article(VALID + f"slug: {'x' * 300}\n")},
        (f"{A}:5: front matter: 'slug' is longer than 120 bytes; file systems cannot hold it",),
    ),
    Case(
        "long-title-slug-is-cut",
        {A: article("title: " + "word " * 100 + "\ndate: 2018-01-01\npublication: P\n")},
        check=long_slug_cut,
    ),
    Case(
        "same-slug-twice",
        {A: article(VALID + "slug: same\n"), "content/2018/b.md": article(VALID + "slug: same\n")},
        (f"{A}: URL 2018/same/ is also used by content/2018/b.md",),
    ),
    Case(
        "titles-collide-after-slugify",
        {A: article(), "content/2018/b.md": article(VALID.replace("A Title", "a title!"))},
        (f"{A}: URL 2018/a-title/ is also used by content/2018/b.md",),
        cli=True,
    ),
    Case(
        "title-slugifies-to-nothing",
        {A: article("title: 🎉\ndate: 2018-01-01\npublication: P\n")},
        (
            f"{A}:2: front matter: the title gives an empty slug; set 'slug' to letters, digits and hyphens",
        ),
    ),
    Case(
        "slug-clashes-with-year-page",
        {A: article(VALID + "slug: index.html\n")},
        (f"{A}: 2018/index.html/index.html needs 2018/index.html {CONFLICT}",),
    ),
    Case(
        "alias-over-feed-file",
        {A: article(VALID + "aliases: [feed.xml/]\n")},
        (f"{A}: feed.xml/index.html needs feed.xml {CONFLICT}",),
    ),
    Case(
        "alias-over-overview-page",
        {A: article(VALID + "aliases: [people/]\n")},
        (f"{A}: people/index.html would be written by two pages",),
    ),
    Case(
        "alias-outside-site",
        {A: article(VALID + "aliases: [../../etc/]\n")},
        (
            f"{A}:5: front matter: alias '../../etc/' must be a relative path inside the site, such as old/path/",
        ),
    ),
    # --- titles and terms
    Case(
        "script-and-jinja-in-title",
        {
            A: article(
                'title: "{{ 7*7 }} <script>x</script>"\ndate: 2018-01-01\npublication: P\n',
                "{{ 8*8 }} {% if %}\n",
            )
        },
        check=title_is_text,
    ),
    Case("html-in-body", {A: article(body="Body &lt;b&gt;\n")}, check=script_body_passes_through),
    Case(
        "term-slugifies-to-nothing",
        {A: article(VALID + "people: ['!!!']\n")},
        (f"{A}: people: '!!!' has no letters or digits to name a page",),
    ),
    Case(
        "publication-slugifies-to-nothing",
        {A: article("title: A\ndate: 2018-01-01\npublication: '???'\n")},
        (f"{A}: sources: '???' has no letters or digits to name a page",),
    ),
    Case(
        "unicode-names",
        {A: article(VALID + "people: [Erdoğan, 金正恩]\n")},
        check=unicode_term_pages,
    ),
    Case(
        "spellings-merge",
        {
            A: article(VALID + "people: [Kim Jong-un]\n"),
            "content/2018/b.md": article(VALID.replace("A Title", "B") + "people: [Kim Jong Un]\n"),
        },
        warnings=(
            "content: warning: people: Kim Jong Un, Kim Jong-un share one page 'Kim Jong Un'; "
            "add the name to the authority file to choose its spelling",
        ),
    ),
    Case(
        "editor-lock-and-hidden-files",
        {A: article(), "content/.drafts/b.md": "not front matter", "content/2018/.b.md": ""},
        symlinks={"content/2018/.#a.md": "user@host.1234"},
    ),
    # --- symlinks
    Case(
        "symlink-outside-content",
        {"secret.md": article()},
        (f"{A}: symlink points outside the content folder; not read",),
        symlinks={A: "secret.md"},
    ),
    Case(
        "symlink-loop",
        {},
        (f"{A}: cannot read file: Too many levels of symbolic links",),
        symlinks={A: A},
    ),
    Case(
        "symlinked-folder",
        {"elsewhere/b.md": article()},
        warnings=(
            "content/ext: warning: symlinked folder is not followed; articles in it are not read",
        ),
        symlinks={"content/ext": "elsewhere"},
    ),
    # --- templates
    Case(
        "template-syntax-error",
        with_template("article.html", "{% if %}\n"),
        (
            "templates/article.html:1: template: Expected an expression, got 'end of statement block'",
        ),
        cli=True,
    ),
    Case(
        "template-undefined-variable",
        with_template("article.html", "x\n{{ nope.x }}\n"),
        ("templates/article.html:2: template: 'nope' is undefined",),
    ),
    Case(
        "template-division-by-zero",
        with_template("article.html", "x\n{{ 1/0 }}\n"),
        ("templates/article.html:2: template: division by zero",),
    ),
    Case(
        "template-recursive-macro",
        with_template("article.html", "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}\n"),
        ("templates/article.html:1: template: calls itself without end (a macro or include?)",),
    ),
    Case(
        "template-not-utf8",
        with_template("article.html", b"\xff\xfe{{ x }}"),
        (
            "article.html: template: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte",
        ),
    ),
    # --- configuration and authority file
    Case(
        "config-unknown-key",
        {"config.yaml": "title: T\ncolour: red\n"},
        (
            "config.yaml:2: unknown setting 'colour' (known settings: authority, base_url, cache, "
            "citation_styles, cname, content_dir, description, downloads, feed_items, feeds, "
            "jobs, language, output_dir, per_page, publish_originals, raw_dir, "
            "related_articles, search, sitemap, static_dir, templates_dir, term_per_page, title)",
        ),
        cli=True,
    ),
    Case(
        "config-wrong-types",
        {"config.yaml": "per_page: ten\nfeeds: 'yes'\nterm_per_page: 0\n"},
        (
            "config.yaml:1: 'per_page' must be a whole number, not 'ten'",
            "config.yaml:2: 'feeds' must be true or false, not 'yes'",
            "config.yaml:3: 'term_per_page' must be at least 1",
        ),
    ),
    Case(
        "config-not-a-mapping",
        {"config.yaml": "- a\n"},
        ("config.yaml:1: expected a mapping of keys to values",),
    ),
    Case(
        "config-not-utf8",
        {"config.yaml": b"title: \xff\n"},
        ("config.yaml:1: not valid UTF-8 (byte 0xff); save the file as UTF-8",),
        cli=True,
    ),
    Case("config-with-bom-and-crlf", {"config.yaml": "\ufefftitle: T\r\nper_page: 3\r\n"}),
    Case(
        "output-folder-is-root",
        {"config.yaml": "output_dir: /\n"},
        ("/: output folder would replace the project's content/; choose another",),
    ),
    Case(
        "output-folder-is-content",
        {"config.yaml": "output_dir: content\n"},
        ("content: output folder would replace the project's content/; choose another",),
    ),
    Case(
        "output-is-the-data-folder",
        {"config.yaml": "output_dir: data\n", "data/entities.yaml": "people: {}\n", A: article()},
        (
            "data: output folder holds files but no site built before (no archive.json); the "
            "build replaces the whole folder, so choose another or empty it",
        ),
    ),
    Case(
        "output-is-the-config-file",
        {"config.yaml": "output_dir: config.yaml\n"},
        ("config.yaml: output is a file, not a folder; choose another output folder",),
    ),
    Case(
        "output-is-a-symlink",
        {A: article(), "public/archive.json": "{}"},
        symlinks={"_site": "public"},
        check=output_link_kept,
    ),
    Case(
        "authority-name-clash",
        {"data/entities.yaml": "people:\n  A:\n    aliases: [Kim]\n  B:\n    aliases: [kim]\n"},
        ("data/entities.yaml:4: people: 'kim' names both 'A' and 'B'",),
    ),
    Case(
        "authority-wrong-shape",
        {"data/entities.yaml": "people:\n  X: [a]\n"},
        ("data/entities.yaml:2: people: X: details must be a mapping",),
    ),
    Case(
        "authority-not-utf8",
        {"data/entities.yaml": b"people:\n  X\xff: {}\n"},
        ("data/entities.yaml:2: not valid UTF-8 (byte 0xff); save the file as UTF-8",),
    ),
    Case(
        "authority-is-a-folder",
        {"data/entities.yaml/x": ""},
        ("data/entities.yaml: cannot read file: Is a directory",),
    ),
]
FIGURES.expected["bad_input"] = len(CASES)
FIGURES.expected["cli"] = sum(case.cli for case in CASES)


def make_site(root: Path, case: Case) -> Path:
    """A site folder with a default config, one folder per year and the case's files."""
    site = root / "site"
    (site / "content" / "2018").mkdir(parents=True)
    (site / "config.yaml").write_text("title: T\n", encoding="utf-8")
    for name, data in case.files.items():
        path = site / name
        path.parent.mkdir(parents=True, exist_ok=True)
        value = data() if callable(data) else data
        if isinstance(value, bytes):
            path.write_bytes(value)
        else:
            path.write_text(value, encoding="utf-8", newline="")
    for link, target in case.symlinks.items():
        (site / link).symlink_to(site / target)
    return site


def assert_every_article_has_its_page(site: Path, built: int, drafts: int) -> None:
    """Count pages against sources: every non-draft source file has its page (hidden files,
    such as editor lock files, are not sources)."""
    content = site / "content"
    sources = [
        p
        for p in content.rglob("*.md")
        if not any(part.startswith(".") for part in p.relative_to(content).parts)
    ]
    assert built + drafts == len(sources)
    records = json.loads((site / "_site" / "archive.json").read_text(encoding="utf-8"))["articles"]
    assert len(records) == built
    for record in records:
        assert (site / "_site" / record["url"] / "index.html").is_file()


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    site = make_site(tmp_path, case)
    monkeypatch.chdir(site)  # paths in messages are then shown as the user sees them
    try:
        config = load_config(Path("config.yaml"))
        result = build_site(config, config.path("output_dir"))
    except BuildError as error:
        assert [str(p) for p in error.problems] == list(case.errors)
    else:
        assert not case.errors, "the build should have failed"
        assert [str(w) for w in result.warnings] == list(case.warnings)
        assert_every_article_has_its_page(site, result.articles, result.drafts)
        if case.check:
            case.check(site)
    FIGURES.bad_input[case.id] = case.outcome


CLI_CASES = [case for case in CASES if case.cli]


@pytest.mark.parametrize("case", CLI_CASES, ids=[case.id for case in CLI_CASES])
def test_cli_reports_without_traceback(case: Case, tmp_path: Path):
    site = make_site(tmp_path, case)
    result = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "--quiet"],
        cwd=site,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    expected = [*case.errors, f"Build failed: {len(case.errors)} problem(s)"]
    assert result.stderr.splitlines() == expected
    assert not (site / "_site").exists()
    FIGURES.cli_cases.append(case.id)
