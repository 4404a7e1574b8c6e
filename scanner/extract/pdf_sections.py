"""A PDF's sections: from its outline (bookmarks), else from headings set in a larger font, else
one section per page.

The reader (:mod:`.pdf`) gives each page as lines with the font size they are set in, and the
outline as (depth, title, page) entries. Outline entries point at pages; each is placed on the line
of its page that carries its title, so several sections may start on one page. Locators name the
heading and its page: "4.2 Internal audit (p. 12)".
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from gapscan.scanner.extract.guards import Draft, Limits

# A heading is set larger than the body text (Word's 12 pt headings over 11 pt text), in a size
# that is rare: a second body size (9 and 10 pt) is not a heading size.
_HEADING_RATIO = 1.08
_MAX_HEADING_SHARE = 0.2  # of the characters the body size sets
_MAX_HEADING_CHARS = 150
# Outline levels below the first that are kept; deeper entries stay inside their section.
_OUTLINE_LEVELS = 3
# A level whose titles repeat this much ("Scenario", "Use case" under every feature) says
# nothing a locator needs, and neither do the levels below it.
_MIN_DISTINCT_TITLES = 0.8
# A heading may wrap over this many lines.
_MAX_HEADING_LINES = 3
_TITLE_CHARS = 100
# "Chapter 3" above "Internal audit": a label line that belongs to the heading below it.
_LABEL_LINE = re.compile(r"^(chapter|part|appendix|annex|section|kapitel|cap[ií]tulo|chapitre)\s+[\w.]+$", re.I)
_NUMBERING = re.compile(
    r"^(?:(?:chapter|part|section|appendix|annex)\s+)?(?:[0-9]+(?:\.[0-9]+)*|[ivxlc]+|[a-z])[.):]?\s+"
)
_NOT_WORD = re.compile(r"\W+")
_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class Line:
    text: str
    size: float = 0.0  # the font size most of the line is set in, in points; 0 when unknown


@dataclass(frozen=True)
class Heading:
    page: int  # 0-based
    line: int  # its first line on that page
    lines: int  # how many lines it spans
    title: str


def sectioned(pages: list[list[Line]], headings: list[Heading], limits: Limits) -> Draft:
    """The text as sections starting at ``headings``, or one section per page without any."""
    first = min((h.page for h in headings), default=0)
    draft = Draft(limits.max_chars, f"pages 1–{first}" if first > 1 else "page 1")  # cover, contents
    starts = {(h.page, h.line): h for h in headings}
    skip = 0
    for number, lines in enumerate(pages):
        if not headings:
            draft.start(f"page {number + 1}")
        for index, line in enumerate(lines):
            if draft.full:
                return draft
            heading = starts.get((number, index))
            if heading is not None:
                draft.start(f"{_short(heading.title)} (p. {number + 1})", heading.title)
                skip = heading.lines
            if skip:
                skip -= 1
                continue
            draft.add(line.text)
    return draft


# --- from the outline ------------------------------------------------------------------------


def outline_headings(entries: list[tuple[int, str, int]], pages: list[list[Line]]) -> list[Heading]:
    """Headings where the outline's (depth, title, 0-based page) entries point, at the useful
    depth; [] when it has too few."""
    entries = [(depth, title, page) for depth, title, page in entries if 0 <= page < len(pages) and title]
    entries = _useful_levels(entries)
    headings: list[Heading] = []
    for _, title, entry_page in entries:
        page = entry_page
        previous = headings[-1] if headings else None
        after = previous.line + previous.lines if previous is not None and previous.page == page else 0
        if previous is not None and page < previous.page:
            continue  # the outline runs backwards here: keep the document's order
        found = _find_title(pages[page], title, after)
        if found is None and page + 1 < len(pages):  # written just before a page break moved it
            found = _find_title(pages[page + 1], title, 0)
            page += found is not None
        if found is not None:
            headings.append(Heading(page, *found, title=_clean_title(title)))
        elif previous is None or previous.page != page:
            headings.append(Heading(page, 0, 0, _clean_title(title)))
    return headings if len(headings) >= 2 else []


def _useful_levels(entries: list[tuple[int, str, int]]) -> list[tuple[int, str, int]]:
    """Skip a lone top entry wrapping everything (the document's title), keep a few levels below,
    and stop at the first level whose titles mostly repeat."""
    while entries:
        top = min(depth for depth, _, _ in entries)
        at_top = [entry for entry in entries if entry[0] == top]
        if len(at_top) == 1 and len(entries) > 1:
            entries = [entry for entry in entries if entry is not at_top[0]]
            continue
        break
    if not entries:
        return []
    top = min(depth for depth, _, _ in entries)
    deepest = top + _OUTLINE_LEVELS - 1
    for depth in range(top + 1, top + _OUTLINE_LEVELS):
        titles = [_key(title) for level, title, _ in entries if level == depth]
        if titles and len(set(titles)) < _MIN_DISTINCT_TITLES * len(titles):
            deepest = depth - 1
            break
    return [entry for entry in entries if entry[0] <= deepest]


def _find_title(lines: list[Line], title: str, after: int) -> tuple[int, int] | None:
    """(first line, lines spanned) of the heading carrying ``title`` on a page, from line ``after``."""
    wanted = _key(title)
    bare = _key(_NUMBERING.sub("", _plain(title)))
    if not wanted:
        return None
    for index in range(after, len(lines)):
        joined = ""
        for span in range(1, _MAX_HEADING_LINES + 1):
            if index + span > len(lines):
                break
            joined = f"{joined} {lines[index + span - 1].text}".strip()
            key = _key(joined)
            if key in (wanted, bare) or _key(_NUMBERING.sub("", _plain(joined))) in (wanted, bare):
                if index > after and _LABEL_LINE.match(lines[index - 1].text.strip()):
                    return index - 1, span + 1
                return index, span
            if not (wanted.startswith(key) or bare.startswith(key)):
                break
    return None


# --- from font sizes -------------------------------------------------------------------------


def font_headings(pages: list[list[Line]]) -> list[Heading]:
    """Lines set clearly larger than the body text, where there are at least two of them."""
    sizes: Counter[float] = Counter()
    for lines in pages:
        for line in lines:
            if line.size:
                sizes[line.size] += len(line.text.strip())
    if not sizes:
        return []
    body, body_chars = sizes.most_common(1)[0]
    heading_sizes = {size for size, chars in sizes.items()
                     if size >= body * _HEADING_RATIO and chars <= _MAX_HEADING_SHARE * body_chars}
    headings: list[Heading] = []
    for number, lines in enumerate(pages):
        index = 0
        while index < len(lines):
            if not _looks_like_heading(lines[index], heading_sizes):
                index += 1
                continue
            span = 1
            while (span < _MAX_HEADING_LINES and index + span < len(lines)
                   and _continues(lines[index + span - 1], lines[index + span], heading_sizes)):
                span += 1
            title = " ".join(line.text.strip() for line in lines[index : index + span])
            headings.append(Heading(number, index, span, _clean_title(title)))
            index += span
    headings = _without_running_headers(headings, len(pages))
    return headings if len(headings) >= 2 else []


def _looks_like_heading(line: Line, heading_sizes: set[float]) -> bool:
    text = line.text.strip()
    return line.size in heading_sizes and 2 <= len(text) <= _MAX_HEADING_CHARS and _LETTER.search(text) is not None


def _continues(line: Line, following: Line, heading_sizes: set[float]) -> bool:
    """A heading wrapped onto the next line (same size), or a label line ("Chapter 3") above its
    title."""
    if not _looks_like_heading(following, heading_sizes):
        return False
    return abs(line.size - following.size) < 0.5 or _LABEL_LINE.match(line.text.strip()) is not None


def _without_running_headers(headings: list[Heading], pages: int) -> list[Heading]:
    """A large line repeated on most pages is a running header, not a heading."""
    if pages < 3:
        return headings
    on_pages: dict[str, set[int]] = {}
    for heading in headings:
        on_pages.setdefault(_key(heading.title), set()).add(heading.page)
    return [h for h in headings if len(on_pages[_key(h.title)]) <= pages / 2]


# --- text helpers ----------------------------------------------------------------------------


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _key(text: str) -> str:
    """Text as compared: ligatures unfolded, case and punctuation ignored."""
    return _NOT_WORD.sub(" ", _plain(text).casefold()).strip()


def _clean_title(title: str) -> str:
    return " ".join(_plain(title).split())


def _short(title: str) -> str:
    return title if len(title) <= _TITLE_CHARS else title[: _TITLE_CHARS - 1] + "…"
