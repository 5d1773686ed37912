"""The README and the pages under docs/: every relative link and image points to a file that exists (and a `#anchor`
into a page to one of its headings), and docs/cli.md lists every command and every option that `--help` prints."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from netcost.gui.app.entry import main as netcost_main

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
CLI_PAGE = ROOT / "docs" / "cli.md"

# [text](target) and ![alt](target); the text may run over lines (long image captions do)
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
CODE_SPAN = re.compile(r"`[^`\n]*`")


def _prose(text: str) -> str:
    """The page without its code blocks and code spans, where a bracket is not a link."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def _anchor(heading: str) -> str:
    """GitHub's id of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for heading in re.findall(r"^#{1,6} (.+)$", FENCE.sub("", page.read_text(encoding="utf-8")), re.M):
        base = _anchor(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def _links(page: Path) -> list[str]:
    return LINK.findall(_prose(page.read_text(encoding="utf-8")))


def test_the_pages_are_found() -> None:
    names = {p.name for p in PAGES}
    assert {"README.md", "architecture.md", "cli.md", "conventions.md", "file-formats.md", "latency.md",
            "security.md", "performance.md"} <= names
    assert len(_links(ROOT / "README.md")) >= 10  # the parser sees the README's links and images


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_and_image_exists(page: Path) -> None:
    broken = []
    for target in _links(page):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):  # https:, mailto: ...
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(f"{target}: no heading #{anchor} in {dest.name}")
    assert not broken, f"{page.relative_to(ROOT)}: " + "; ".join(broken)


def _help(*argv: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COLUMNS", "200")  # one option per line, however wide the terminal
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as done:
        netcost_main([*argv, "--help"])
    assert done.value.code == 0
    return out.getvalue()


def _options(help_text: str) -> set[str]:
    """Every option string of the help's options section (`-o`, `--output`), `-h`/`--help` left out."""
    section = help_text.split("\noptions:\n", 1)[1]
    found = set()
    for invocation in re.findall(r"^  (-\S.*?)(?:  |$)", section, re.M):
        found |= {part.split()[0] for part in invocation.split(", ")}
    return found - {"-h", "--help"}


def _sections(doc: str) -> dict[str, str]:
    """The text under each `### \\`netcost COMMAND …\\`` heading, by command."""
    parts = re.split(r"^### `netcost ([\w-]+)[^\n]*$", doc, flags=re.M)
    return {parts[i]: parts[i + 1].split("\n## ", 1)[0] for i in range(1, len(parts), 2)}


def _named(option: str, text: str) -> bool:
    return re.search(r"`" + re.escape(option) + r"(?![\w-])", text) is not None


def test_cli_page_lists_every_command_and_option(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = CLI_PAGE.read_text(encoding="utf-8")
    top = _help(monkeypatch=monkeypatch)
    commands = re.search(r"\{([\w,-]+)\}", top).group(1).split(",")
    assert len(commands) >= 11 and "summary" in commands and "gui" in commands
    assert all(_named(o, doc) for o in ("-V", "--version", "-h", "--help"))
    table = set(re.findall(r"^\| `([\w-]+)", doc, re.M))
    sections = _sections(doc)
    model_options = doc.split("### Model options", 1)[1].split("\n### ", 1)[0]
    missing = []
    for command in commands:
        if command not in table:
            missing.append(f"{command}: no row in the command table")
        if command not in sections:
            missing.append(f"{command}: no section")
            continue
        text = sections[command]
        if "The model options" in " ".join(text.split()):
            text += model_options
        missing += [f"{command} {o}" for o in sorted(_options(_help(command, monkeypatch=monkeypatch)))
                    if not _named(o, text)]
    assert not missing, "docs/cli.md does not name: " + ", ".join(missing)
