"""Command line contract: exit codes, summary line, errors as path:line without tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, write_article


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "build.py"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_build_then_check(fixture_site: Path):
    result = run(cwd=fixture_site)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        "Built 4 articles (1 drafts skipped); 4 people, 3 countries, 3 sources; "
    )
    assert f"Site: {fixture_site / '_site'}/" in result.stdout
    checked = run("check", cwd=fixture_site)
    assert checked.returncode == 0
    assert checked.stdout.endswith(": 0 broken links\nChecked 1 originals: 0 problems\n")


def test_explicit_options(fixture_site: Path, tmp_path: Path):
    out = tmp_path / "elsewhere"
    result = run(
        "build",
        "--output",
        str(out),
        "--base-url",
        "https://u.github.io/r/",
        "--quiet",
        cwd=fixture_site,
    )
    assert result.returncode == 0
    assert result.stdout == ""
    assert "https://u.github.io/r/feed.xml" in (out / "feed.xml").read_text()


def test_bad_content_reports_all_problems(fixture_site: Path):
    content = fixture_site / "content"
    write_article(content, "2018/a.md", "title: A\ndate: 2018-13-01\npublication: P")
    write_article(content, "2018/b.md", "title: B\ndate: 2018-01-01\npublication: P\npeople: Putin")
    result = run(cwd=fixture_site)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "content/2018/a.md:3: front matter: 'date' '2018-13-01' is not a valid ISO date (YYYY-MM-DD)",
        "content/2018/b.md:5: front matter: 'people' must be a list of names, not a single string (write [Putin])",
        "Build failed: 2 problem(s)",
    ]


def test_strict_warns_about_unknown_keys(fixture_site: Path):
    write_article(
        fixture_site / "content", "2018/a.md", "title: A\ndate: 2018-01-01\npublication: P\nmood: x"
    )
    result = run("--strict", cwd=fixture_site)
    assert result.returncode == 0
    assert "content/2018/a.md:5: warning: front matter: unknown key 'mood'" in result.stderr


def test_usage_errors_exit_2(fixture_site: Path):
    assert run("build", "--no-such-flag", cwd=fixture_site).returncode == 2
    assert run("--help", cwd=fixture_site).returncode == 0
    assert "--base-url" in run("build", "--help", cwd=fixture_site).stdout
    assert "--output" in run("check", "--help", cwd=fixture_site).stdout


def test_check_finds_broken_links(fixture_site: Path):
    assert run(cwd=fixture_site).returncode == 0
    (fixture_site / "_site" / "people" / "index.html").write_text(
        '<a href="../nowhere/">x</a><a href="kim-jong-un/">k</a>'
    )
    result = run("check", cwd=fixture_site)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == "people/index.html: broken link ../nowhere/"


def test_check_without_site(tmp_path: Path):
    result = run("check", "--output", str(tmp_path / "none"), cwd=tmp_path)
    assert result.returncode == 1
    assert "no built site here" in result.stderr


def test_profile_prints_the_time_of_each_stage(fixture_site: Path):
    result = run("build", "--quiet", "--profile", "--no-cache", cwd=fixture_site)
    assert result.returncode == 0, result.stderr
    stages = [line.split()[0] for line in result.stderr.splitlines()]
    for stage in ("scan", "load/parse", "model", "plan", "render+write", "write", "total"):
        assert stage in stages, result.stderr
    assert result.stdout == ""


def test_profile_names_the_route_the_build_took_and_why(fixture_site: Path):
    def route() -> str:
        result = run("build", "--quiet", "--profile", cwd=fixture_site)
        assert result.returncode == 0, result.stderr
        return next(line for line in result.stderr.splitlines() if line.startswith("route"))

    summit = fixture_site / "content" / "2020" / "summit.md"
    assert route().split(maxsplit=1)[1] == "full build: no saved engine usable with these settings"
    assert route().endswith("nothing changed")
    summit.write_text(summit.read_text().replace("people: [", "people: [Ann Lee, ", 1))
    assert route().endswith("saved engine")
    (fixture_site / "_site" / "people" / "index.html").unlink()
    summit.write_text(summit.read_text().replace("Ann Lee, ", "", 1))
    assert route().endswith("full build: a page was deleted or changed since the last build")
