"""Properties: random front matter and Markdown never crash the pipeline, and never escape the site.

Each example goes load (parse_article) → model (build_archive) → render → write; the only failure
allowed is a BuildError (a list of problems for people), and every output path stays inside the
site folder. Examples are derandomized, so a run is reproducible and the report stable.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clippings.archive import build_archive
from clippings.authority import KINDS, Authority
from clippings.config import Config
from clippings.content import KNOWN, NAME_LISTS, TEXT_FIELDS, Article, parse_article
from clippings.errors import BuildError
from clippings.output import SiteWriter, safe_relative
from clippings.plan import check_page_paths
from clippings.render import DATA_PAGE, Renderer, Site, render_all, with_sizes
from tests.reliability.report import FIGURES

PROPERTIES = ("random_front_matter", "random_yaml_text", "random_markdown", "written_site")
FIGURES.expected["properties"] = FIGURES.expected.get("properties", 0) + len(PROPERTIES)
EXAMPLES = 40
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Text that exercises slugs, escaping and path handling: separators, dots, NUL, markup, scripts.
tricky_text = st.text(
    st.sampled_from(list("aZ9 -_./\\\0<>&'\"{}%#*`[]()!|\n\tğ金🎉")) | st.characters(),
    max_size=30,
)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | tricky_text
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(tricky_text, inner, max_size=3),
    max_leaves=12,
)
dates = st.dates().map(str) | st.datetimes().map(str) | st.none() | tricky_text
# Mostly well-typed front matter with tricky contents (it reaches the renderer and the writer) ...
names = st.lists(tricky_text.map("N {}".format), max_size=4)
typed_front_matter = st.fixed_dictionaries(
    {
        "title": tricky_text.map("T {}".format),
        "date": dates,
        "publication": tricky_text.map("P {}".format),
    },
    optional={
        **{key: names for key in NAME_LISTS},
        **{key: tricky_text for key in TEXT_FIELDS},
        "slug": st.from_regex(r"\A\w[\w.-]{0,20}\Z") | tricky_text,
        "aliases": st.lists(tricky_text, max_size=3),
        "captions": names,
        "draft": st.booleans(),
    },
)
# ... and front matter of any shape, which mostly stops at validation.
any_front_matter = st.fixed_dictionaries(
    {"title": values, "date": dates, "publication": values},
    optional={key: values for key in sorted(KNOWN - {"title", "date", "publication"})},
)
front_matter = typed_front_matter | any_front_matter
markdown_text = st.text(
    st.sampled_from(list("ab #*_-+>`[]()!<>&{}%|\\\n\t 1.")) | st.characters(), max_size=300
)


def article_text(front: dict, body: str) -> str:
    return "---\n" + yaml.safe_dump(front, allow_unicode=True) + "---\n" + body


def render_pages(articles: list[Article], root: Path) -> list[tuple[str, bytes]]:
    """Model and render; every page path must be a safe relative path inside the site."""
    config = Config(root=root)
    archive = build_archive(articles, Authority({kind: {} for kind in KINDS}))
    pages = list(Site(archive, config).pages())
    check_page_paths(pages, {})  # as build_site does before writing
    renderer = Renderer(config, archive)
    # as build_site does: the data page last, with the sizes of the downloads
    rendered = list(render_all([page for page in pages if page.path != DATA_PAGE], renderer))
    sizes = {path: len(data) for path, data in rendered}
    last = [with_sizes(page, sizes.__getitem__) for page in pages if page.path == DATA_PAGE]
    rendered += render_all(last, renderer)
    site = (root / "_site").resolve()
    for path, _ in rendered:
        safe_relative(path)
        assert (site / path).resolve().is_relative_to(site)
    return rendered


def through_pipeline(text: str, root: Path) -> list[tuple[str, bytes]]:
    article, problems = parse_article(text, "content/x.md")
    assert all(str(problem).startswith("content/x.md") for problem in problems)
    if article is None:
        assert problems
        return []
    try:
        return render_pages([article], root)
    except BuildError as error:
        assert error.problems
        return []


@SETTINGS
@given(front=front_matter, body=markdown_text)
def test_random_front_matter(front: dict, body: str):
    FIGURES.properties["random_front_matter"] = EXAMPLES
    with tempfile.TemporaryDirectory() as root:
        through_pipeline(article_text(front, body), Path(root))


@SETTINGS
@given(front=st.text(max_size=200), body=markdown_text)
def test_random_yaml_text(front: str, body: str):
    FIGURES.properties["random_yaml_text"] = EXAMPLES
    with tempfile.TemporaryDirectory() as root:
        through_pipeline(f"---\n{front}\n---\n{body}", Path(root))


@SETTINGS
@given(body=markdown_text)
def test_random_markdown(body: str):
    FIGURES.properties["random_markdown"] = EXAMPLES
    with tempfile.TemporaryDirectory() as root:
        pages = through_pipeline(
            article_text({"title": "T", "date": None, "publication": "P"}, body), Path(root)
        )
    assert any(path == "undated/t/index.html" for path, _ in pages)


@settings(SETTINGS, max_examples=EXAMPLES // 3)
@given(fronts=st.lists(front_matter, min_size=1, max_size=4))
def test_written_site(fronts: list[dict]):
    """Several random articles written to disk: no file lands outside the site folder."""
    FIGURES.properties["written_site"] = EXAMPLES // 3
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        parsed = [
            parse_article(article_text(f, "Body."), f"content/{i}.md") for i, f in enumerate(fronts)
        ]
        articles = [article for article, _ in parsed if article is not None]
        try:
            rendered = render_pages(articles, root)
        except BuildError:
            return
        writer = SiteWriter(root / "_site")
        try:
            for path, data in rendered:
                writer.write(path, data)
            writer.commit()
        except BuildError:
            writer.abort()
        written = {p.relative_to(root).parts[0] for p in root.rglob("*")}
        assert written <= {"_site"}
