"""Command line: argument parsing and reporting only; the work happens in the pipeline modules."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from clippings.build import BuildResult, build_site
from clippings.check import check_site
from clippings.config import Config, load_config
from clippings.content import load_articles
from clippings.errors import BuildError
from clippings.importer.options import configure_parser as configure_import
from clippings.originals import check_fixity

COMMANDS = ("build", "check", "import", "serve")


def _add_site_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, default=Path("config.yaml"), help="site configuration file"
    )
    parser.add_argument(
        "--content", type=Path, help="content folder (default: from config, content/)"
    )
    parser.add_argument("--output", type=Path, help="output folder (default: from config, _site/)")
    parser.add_argument("--base-url", help="public URL of the site, used in feeds and sitemap only")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="build.py",
        description="Clippings: build a cross-linked static archive of saved news articles.",
        epilog="Without a command, 'build' runs.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    build = commands.add_parser("build", help="render content/ into the site folder (default)")
    _add_site_options(build)
    build.add_argument("--strict", action="store_true", help="warn about unknown front matter keys")
    build.add_argument("--quiet", action="store_true", help="print errors only")
    build.add_argument(
        "--jobs", type=int, metavar="N", help="render with N processes (default: one per core)"
    )
    build.add_argument(
        "--no-cache", action="store_true", help="ignore and do not update .clippings-cache/"
    )
    build.add_argument(
        "--no-search", action="store_true", help="skip the search index and the search page"
    )
    build.add_argument(
        "--profile", action="store_true", help="print the wall time of each stage to stderr"
    )
    build.set_defaults(run=run_build)

    check = commands.add_parser(
        "check",
        help="verify that every internal link of the built site resolves and that every "
        "captured original in raw/ still has its recorded SHA-256",
    )
    check.add_argument("--output", type=Path, default=Path("_site"), help="site folder to check")
    check.add_argument(
        "--config", type=Path, default=Path("config.yaml"), help="site configuration file"
    )
    check.add_argument("--content", type=Path, help="content folder (default: from config)")
    check.set_defaults(run=run_check)

    serve = commands.add_parser(
        "serve", help="build, serve on localhost, rebuild on every save and reload open pages"
    )
    _add_site_options(serve)
    serve.add_argument("--port", type=int, default=8000, help="port (the next free one if busy)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    serve.add_argument(
        "--base-path", default="/", help="serve under this path, as GitHub Pages does: /repo/"
    )
    serve.add_argument("--open", action="store_true", help="open the site in a web browser")
    serve.add_argument("--strict", action="store_true", help="warn about unknown front matter keys")
    serve.set_defaults(run=run_serve)

    importer = commands.add_parser(
        "import", help="turn scraped text and saved HTML pages into content files"
    )
    configure_import(importer)
    importer.set_defaults(run=run_import)
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {"base_url": args.base_url, "jobs": getattr(args, "jobs", None)}
    if getattr(args, "no_cache", False):
        overrides["cache"] = False
    if getattr(args, "no_search", False):
        overrides["search"] = False
    if args.content is not None:
        overrides["content_dir"] = str(Path(args.content).resolve())
    return overrides


def load_site_config(args: argparse.Namespace) -> Config:
    return load_config(args.config, _overrides(args))


def _progress(quiet: bool) -> Callable[[int], Callable[[], None]] | None:
    """A tqdm bar on an interactive terminal for builds long enough to need one."""
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    def start(total: int) -> Callable[[], None]:
        bar = tqdm(total=total, unit="page", leave=False, mininterval=0.25, delay=1.0)
        return lambda: bar.update()

    return start


def run_import(args: argparse.Namespace) -> int:
    from clippings.importer import cli as importer  # its modules load only when an import runs

    return importer.run(args)


def run_build(args: argparse.Namespace) -> int:
    config = load_site_config(args)
    site_dir = args.output or config.path("output_dir")
    result: BuildResult = build_site(
        config, site_dir, strict=args.strict, progress=_progress(args.quiet), process_ends=True
    )
    for warning in result.warnings:
        print(warning, file=sys.stderr)
    if args.profile:
        print(result.stages.report(result.seconds), file=sys.stderr)
    if not args.quiet:
        print(result.summary())
        print(f"Site: {site_dir.resolve()}/")
        serve = f"{_this_python()} build.py serve"
        print(f"Serve it with live reload: {serve}   (then open http://127.0.0.1:8000/)")
    return 0


def _this_python() -> str:
    """The interpreter as the user can type it here: `.venv/bin/python` for the project's venv."""
    try:
        return Path(sys.executable).relative_to(Path.cwd()).as_posix()
    except ValueError:
        return "python"


def run_serve(args: argparse.Namespace) -> int:
    from clippings.incremental import Rebuilder  # watchdog and the server load only when serving
    from clippings.serve import serve

    rebuilder = Rebuilder(args.config, args.output, _overrides(args), strict=args.strict)
    return serve(rebuilder, args.host, args.port, args.base_path, args.open)


def run_check(args: argparse.Namespace) -> int:
    site_dir: Path = args.output
    if not site_dir.is_dir():
        print(f"{site_dir}: no built site here; run 'python build.py' first", file=sys.stderr)
        return 1
    pages, broken = check_site(site_dir)
    for link in broken:
        print(link)
    print(f"Checked {pages} pages: {len(broken)} broken links")
    content = {"content_dir": str(args.content.resolve())} if args.content else {}
    config = load_config(args.config, content)
    articles, _ = load_articles(config.path("content_dir"), config.root)
    fixity = check_fixity(articles, config, warning=False)
    for problem in fixity:
        print(problem)
    checked = sum(1 for article in articles if article.source_file)
    print(f"Checked {checked} originals: {len(fixity)} problems")
    return 1 if broken or fixity else 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help")):
        argv.insert(0, "build")
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except BuildError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print(f"Build failed: {len(error.problems)} problem(s)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and closed: the work itself is done
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # as Python's docs advise
        return 0
