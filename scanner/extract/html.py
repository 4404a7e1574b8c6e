"""HTML pages: visible text, <h1>-<h6> sections, <title> and author meta tag."""

from __future__ import annotations

from html.parser import HTMLParser

from gapscan.scanner.common.documents import Metadata
from gapscan.scanner.extract.guards import Draft, Limits, Source
from gapscan.scanner.extract.text import read_text

_HIDDEN = {"script", "style", "noscript", "template"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
# Elements that end a line of text; anything else (span, a, em...) flows inline.
_BLOCKS = {
    "address", "article", "aside", "blockquote", "br", "dd", "details", "div", "dl", "dt",
    "figcaption", "figure", "footer", "form", "header", "hr", "li", "main", "nav", "ol", "p",
    "pre", "section", "summary", "table", "tr", "ul",
}  # fmt: skip
_CELLS = {"td", "th"}


def read(source: Source, fmt: str, limits: Limits) -> Draft:
    text, cut = read_text(source, limits)
    parser = _Parser(Draft(limits.max_chars, "start"))
    parser.feed(text)
    parser.close()
    draft = parser.finish()
    if cut:
        draft.full = True
    return draft


class _Parser(HTMLParser):
    def __init__(self, draft: Draft) -> None:
        super().__init__(convert_charrefs=True)
        self._draft = draft
        self._hidden: list[str] = []  # open hidden elements (their text is dropped)
        self._line: list[str] = []
        self._pre = 0  # open <pre> elements, inside which source line breaks are kept
        self._heading: list[str] | None = None  # text of the open <hN>, if any
        self._title: list[str] | None = None
        self._title_text = ""
        self._author = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title" and not self._title_text:
            self._title = []
        elif tag == "meta":
            values = dict(attrs)
            if (values.get("name") or "").lower() == "author":
                self._author = " ".join((values.get("content") or "").split())
        elif tag in _HIDDEN:
            self._hidden.append(tag)
        elif tag in _HEADINGS:
            self._end_line()
            self._heading = []
        elif tag in _BLOCKS:
            self._end_line()
            self._pre += tag == "pre"
        elif tag in _CELLS and self._line:
            self._line.append(" | ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._title is not None:
            self._title_text = " ".join("".join(self._title).split())
            self._title = None
        elif tag in _HIDDEN:
            if tag in self._hidden:  # tolerate stray end tags
                while self._hidden.pop() != tag:
                    pass
        elif tag in _HEADINGS and self._heading is not None:
            heading = "".join(self._heading)
            self._heading = None
            if heading.strip():
                self._draft.start(heading, heading)
        elif tag in _BLOCKS:
            self._end_line()
            self._pre -= tag == "pre" and self._pre > 0

    def handle_data(self, data: str) -> None:
        if not self._pre:
            data = data.replace("\n", " ")
        if self._title is not None:
            self._title.append(data)
        elif self._hidden:
            return
        elif self._heading is not None:
            self._heading.append(data)
        else:
            self._line.append(data)

    def finish(self) -> Draft:
        self._end_line()
        self._draft.metadata = Metadata(title=self._title_text, author=self._author)
        return self._draft

    def _end_line(self) -> None:
        self._draft.add("".join(self._line))
        self._line = []
