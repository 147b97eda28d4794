"""The README is a front door and the docs hold together: every relative link
and anchor of README.md and docs/*.md resolves, the README stays short with
its set-up commands at the top, its test commands are the ones .ci/run runs,
and every docs page opens with what it is for. Text only: no Keras import."""
import glob
import os
import re

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(REPO, "README.md")
PAGES = sorted(glob.glob(os.path.join(REPO, "docs", "*.md")))
FILES = [README] + PAGES

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")
MD_LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_LINK = re.compile(r"<(?:img|a)\b[^>]*?\b(?:src|href)=\"([^\"]+)\"", re.I)


def _read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _prose(text):
    """The text outside code: links and headings in code blocks are not links."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def _slug(heading):
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to
    hyphens (letters with accents and underscores kept)."""
    text = re.sub(r"<[^>]+>", "", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path):
    """Every anchor GitHub gives the headings of a Markdown file, repeats numbered."""
    found, seen = set(), {}
    for line in FENCE.sub("", _read(path)).splitlines():
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        slug = _slug(match.group(1))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def links(path):
    prose = _prose(_read(path))
    return MD_LINK.findall(prose) + HTML_LINK.findall(prose)


def _broken(path):
    broken = []
    for target in links(path):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        resolved = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) \
            if file_part else path
        if not os.path.exists(resolved):
            broken.append(f"{target} (no such file)")
        elif anchor and resolved.endswith(".md") and anchor not in anchors(resolved):
            broken.append(f"{target} (no heading gives #{anchor})")
    return broken


@pytest.mark.parametrize("path", FILES, ids=lambda p: os.path.relpath(p, REPO))
def test_every_relative_link_and_anchor_resolves(path):
    assert _broken(path) == []


def test_the_link_check_catches_a_missing_file_and_a_missing_anchor(tmp_path):
    (tmp_path / "b.md").write_text("# Title\n\n## A section, with `code`\n")
    page = tmp_path / "a.md"
    page.write_text("[ok](b.md#a-section-with-code) [no](c.md) [gone](b.md#nowhere)\n"
                    "`[code](ignored.md)`\n```\n[block](ignored.md)\n```\n")
    assert _broken(str(page)) == ["c.md (no such file)", "b.md#nowhere (no heading gives #nowhere)"]


def test_readme_is_a_front_door_of_at_most_250_lines():
    lines = _read(README).splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines; move details to docs/"


def test_readme_gives_the_set_up_commands_and_the_main_one_in_its_first_40_lines():
    top = "\n".join(_read(README).splitlines()[:40])
    for command in ('python3 -m venv .venv', 'pip install -e ".[test]"', "python dcgan/dcgan.py"):
        assert command in top


def test_readme_test_commands_are_those_ci_runs():
    readme = _read(README)
    block = readme[readme.index("## Run the tests"):]
    commands = [line.split("#")[0].strip() for line in block.splitlines()
                if "python -m pytest" in line and not line.startswith("`")]
    ci = [line.strip() for line in _read(os.path.join(REPO, ".ci", "run")).splitlines()]
    assert len(commands) == 4
    for command in commands:
        assert any(line == command or line.startswith(command + " ") for line in ci), \
            f"README's `{command}` is not what .ci/run runs"


@pytest.mark.parametrize("path", PAGES, ids=lambda p: os.path.relpath(p, REPO))
def test_every_docs_page_opens_with_what_it_is_for(path):
    paragraphs = [p for p in _read(path).split("\n\n") if p.strip()]
    assert paragraphs[0].startswith("# ")
    assert re.match(r"This (page|folder) is for ", paragraphs[1]), \
        f"{os.path.relpath(path, REPO)} should open with 'This page is for ...'"


def test_every_docs_page_is_in_the_docs_index():
    index = _read(os.path.join(REPO, "docs", "README.md"))
    for path in PAGES:
        name = os.path.basename(path)
        if name != "README.md":
            assert f"({name})" in index, f"docs/README.md does not list {name}"
