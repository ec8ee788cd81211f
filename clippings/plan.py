"""What a build will write, checked before anything is written: the output folder, the static
files and the page paths. Shared by the full build and the incremental engine."""

from __future__ import annotations

from pathlib import Path

from clippings.config import Config
from clippings.content import display_path
from clippings.errors import BuildError, Problem
from clippings.files import walk_folder
from clippings.render import THEME_DIR, Page


def static_files(config: Config) -> tuple[dict[str, Path], list[Problem]]:
    """Theme assets overlaid by the site's own static/ folder (same name wins), and warnings.

    Walked as content is (`files.walk_folder`): editors' files are skipped; a FIFO, an
    unreadable folder or a symlink out of the project is an error, never a silent drop.
    """
    files: dict[str, Path] = {}
    problems: list[Problem] = []

    def display(path: str) -> str:
        return display_path(Path(path), config.root)

    for folder, inside in (
        (THEME_DIR / "static", None),
        (config.path("static_dir"), config.root.resolve()),
    ):
        walk = walk_folder(folder, display, inside=inside, hidden_folders=True)
        problems += walk.problems
        files.update(("static/" + "/".join(parts), Path(path)) for parts, path in walk.files)
    errors = [problem for problem in problems if not problem.warning]
    if errors:
        raise BuildError(errors)
    return files, problems


def check_output_dir(config: Config, site_dir: Path) -> Path:
    """Refuse an output folder whose replacement would lose anything; returns the folder to write.

    The site is replaced whole, so an existing output must be a folder that is empty or holds a
    site built before (its archive.json): `--output data` or `--output ~` must not be swapped out
    and deleted. A symlinked output folder is rebuilt at its target, keeping the link.
    """
    resolved = site_dir.resolve()
    for name in ("content_dir", "templates_dir", "static_dir"):
        protected = config.path(name).resolve()
        if protected == resolved or protected.is_relative_to(resolved):
            message = f"output folder would replace the project's {getattr(config, name)}/; choose another"
            raise BuildError([Problem(str(site_dir), None, message)])
    message = None
    if resolved.exists() and not resolved.is_dir():
        message = "output is a file, not a folder; choose another output folder"
    elif (
        resolved.is_dir() and any(resolved.iterdir()) and not (resolved / "archive.json").is_file()
    ):
        message = (
            "output folder holds files but no site built before (no archive.json); the build "
            "replaces the whole folder, so choose another or empty it"
        )
    if message:
        raise BuildError([Problem(str(site_dir), None, message)])
    return resolved if site_dir.is_symlink() else site_dir


def check_page_paths(pages: list[Page], assets: dict[str, Path]) -> None:
    """Refuse two outputs on one path, or a file where another output needs a folder.

    A slug or alias can land on a generated page (slug `index.html`, alias `feed.xml/`); the
    error names the article's file, so the user knows what to change.
    """
    owners: dict[str, str | None] = dict.fromkeys(assets)  # path -> article source, if any
    problems: list[Problem] = []
    for page in pages:
        article = page.context.get("article")
        source = article.source if article is not None else None
        if page.path in owners:
            message = f"{page.path} would be written by two pages"
            problems.append(Problem(source or owners[page.path] or page.path, None, message))
        else:
            owners[page.path] = source
    folders: dict[str, str] = {}  # folder -> a path that needs it (strings: 14,000 paths)
    for path in owners:
        end = path.rfind("/")
        while end > 0:
            folders.setdefault(path[:end], path)  # the first page that needs it, by plan order
            end = path.rfind("/", 0, end)
    for path, source in owners.items():
        needer = folders.get(path)
        if needer is not None:
            message = f"{needer} needs {path} to be a folder, but a page is written there"
            problems.append(Problem(owners[needer] or source or path, None, message))
    if problems:
        raise BuildError(problems)
