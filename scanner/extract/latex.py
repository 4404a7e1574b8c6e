r"""LaTeX sources: sections from ``\part`` to ``\subsection``, the markup stripped to readable text.

``\input`` and ``\include`` are followed as LaTeX does (relative to the including file, then to
the main file), but only to files inside the scanned folder, never outside it; nesting and the
number of files are bounded, a file including itself is read once, and a missing file is a
warning. Title, author and date come from ``\title``, ``\author`` and ``\date``.

Markup is removed by one pass over the source: commands vanish and their text arguments
(``\textbf{…}``, ``\emph{…}``) stay, commands whose arguments are not text (``\label``,
``\usepackage``, ``\includegraphics``) vanish with them, mathematics and pictures are left out,
verbatim blocks are kept as they are, table cells are separated by ``|``.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from gapscan.scanner.common.documents import Metadata
from gapscan.scanner.extract.dates import first_date
from gapscan.scanner.extract.guards import Draft, Limits, Source, describe_error, read_document
from gapscan.scanner.extract.text import read_text
from gapscan.scanner.common.reading import is_inside

_HEADINGS = ("part", "chapter", "section", "subsection")
# Headings below \subsection stay in their section, as a line of their own.
_MINOR_HEADINGS = ("subsubsection", "paragraph", "subparagraph")
_MAX_INCLUDE_DEPTH = 8
_MAX_FILES = 200
# Expanded source kept, per character of extracted text allowed (markup takes room).
_SOURCE_PER_CHAR = 4
# How deep a heading's or title's argument may nest commands before it is taken as it stands.
_MAX_NESTING = 20
# The longest optional argument (``\item[label]``, ``\section[short title]``) looked for.
_MAX_OPTIONAL = 1000

# \input{file}, \include{file}, \subfile{file}, or TeX's own \input file
_INCLUDE = re.compile(r"\\(?:input|include|subfile)\s*\{([^{}]*)\}|\\input\s+([^\s{}\\%]+)")
_COMMENT = re.compile(r"(?<!\\)((?:\\\\)*)%.*")
_SPECIAL = re.compile(r"[\\{}$&~\n]")
_LETTERS = re.compile(r"[A-Za-z@]+\*?")
_TIGHT_PUNCTUATION = re.compile(r"\s+([,.;:])")  # "Quinn Manager , Alex Auditor" from \and

# Commands dropped together with this many arguments (optional [..] arguments are dropped too).
_DROP = {
    "label": 1, "ref": 1, "eqref": 1, "pageref": 1, "autoref": 1, "cref": 1, "Cref": 1, "cite": 1,
    "citep": 1, "citet": 1, "nocite": 1, "usepackage": 1, "RequirePackage": 1, "documentclass": 1,
    "includegraphics": 1, "includepdf": 1, "bibliography": 1, "bibliographystyle": 1, "pagestyle": 1,
    "thispagestyle": 1, "pagenumbering": 1, "vspace": 1, "hspace": 1, "vskip": 0, "hskip": 0,
    "setlength": 2, "addtolength": 2, "setcounter": 2, "addtocounter": 2, "newcounter": 1,
    "hypersetup": 1, "geometry": 1, "graphicspath": 1, "newcommand": 2, "renewcommand": 2,
    "providecommand": 2, "newenvironment": 3, "renewenvironment": 3, "DeclareMathOperator": 2,
    "definecolor": 3, "color": 1, "textcolor": 1, "colorbox": 1, "fontsize": 2, "linespread": 1,
    "href": 1, "cline": 1, "multicolumn": 2, "multirow": 2, "rule": 2, "addcontentsline": 3,
    "markboth": 2, "markright": 1, "fancyhead": 1, "fancyfoot": 1, "fancyhf": 1, "lhead": 1,
    "chead": 1, "rhead": 1, "lfoot": 1, "cfoot": 1, "rfoot": 1, "setmainfont": 1, "setsansfont": 1,
    "usetikzlibrary": 1, "thanks": 1, "bibitem": 1, "newtheorem": 2, "captionsetup": 1,
    "lstset": 1, "setuppapersize": 1, "newgeometry": 1, "titleformat": 5, "input": 1, "include": 1,
    "subfile": 1,
}  # fmt: skip
# Commands that stand for text.
_WORDS = {
    "ldots": "…", "dots": "…", "textendash": "–", "textemdash": "—", "LaTeX": "LaTeX", "TeX": "TeX",
    "copyright": "©", "textcopyright": "©", "textregistered": "®", "texttrademark": "™", "euro": "€",
    "texteuro": "€", "textdegree": "°", "S": "§", "P": "¶", "ss": "ß", "o": "ø", "O": "Ø", "ae": "æ",
    "AE": "Æ", "oe": "œ", "OE": "Œ", "aa": "å", "AA": "Å", "l": "ł", "L": "Ł", "i": "ı",
    "textbackslash": "\\", "textasciitilde": "~", "textasciicircum": "^", "textbar": "|",
    "textless": "<", "textgreater": ">", "and": ", ",
    "quad": " ", "qquad": " ", "enspace": " ", "newline": "\n", "linebreak": " ", "par": "\n",
    "item": "\n", "hline": "\n", "toprule": "\n", "midrule": "\n", "bottomrule": "\n",
    "newpage": "\n", "clearpage": "\n", "today": "", "footnote": " ",
}  # fmt: skip
# Accent commands and the combining character each stands for.
_ACCENTS = {
    "'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304",
    ".": "\u0307", "c": "\u0327", "v": "\u030c", "u": "\u0306", "H": "\u030b", "r": "\u030a",
    "k": "\u0328",
}  # fmt: skip
_ESCAPED = set("&%$#_{}") | {" "}
# Environments left out entirely, and those whose text is kept exactly as written.
_SKIPPED_ENVIRONMENTS = {
    "equation", "equation*", "align", "align*", "alignat", "alignat*", "gather", "gather*",
    "multline", "multline*", "eqnarray", "eqnarray*", "math", "displaymath", "tikzpicture",
    "picture", "comment", "thebibliography",
}  # fmt: skip
_VERBATIM_ENVIRONMENTS = {"verbatim", "verbatim*", "Verbatim", "lstlisting", "minted", "alltt"}
# Environment arguments that are not text (column specifications, widths).
_ENVIRONMENT_ARGUMENTS = {
    "tabular": 1, "tabular*": 2, "tabularx": 2, "tabulary": 2, "longtable": 1, "array": 1,
    "minipage": 1, "multicols": 1, "wrapfigure": 2, "minted": 1,
}  # fmt: skip


def read(source: Source, fmt: str, limits: Limits, path: Path, root: Path | None = None) -> Draft:
    """``path`` is where the file lies (``\\input`` names are relative to it); ``root`` is the scanned
    folder: ``\\input`` never reads outside it (default: the file's folder)."""
    location = _real(path)
    sources = _Sources(location, _real(root or path.parent), limits, limits.max_chars * _SOURCE_PER_CHAR)
    text = sources.expand(location, [], source)
    begin = text.find("\\begin{document}")
    body = text[begin + len("\\begin{document}") :] if begin >= 0 else text
    end = body.find("\\end{document}")
    converter = _Converter()
    converter.run(body if end < 0 else body[:end])
    metadata = converter.metadata if begin < 0 else _metadata_of(text[:begin], converter.metadata)
    draft = Draft(limits.max_chars, metadata.title or "start")
    draft.add(metadata.title)
    for heading, block in converter.blocks:
        if heading:
            draft.start(heading, heading)
        draft.add(_typography(block))
    draft.metadata = metadata
    draft.warnings.extend(sources.warnings)
    draft.includes = tuple(sources.included)
    if sources.cut:
        draft.full = True
    return draft


@dataclass
class _Sources:
    """The source with every ``\\input`` replaced by the file it names. An included file is read as
    the document is (:func:`read_document`: a regular file whose real path lies inside the root,
    within the size limit), so a FIFO is never opened and no symlink leads out of the root."""

    main: Path
    root: Path
    limits: Limits
    room: int  # characters of source still allowed
    warnings: list[str] = field(default_factory=list)
    included: list[str] = field(default_factory=list)  # relative to the root, in reading order
    cut: bool = False

    def expand(self, path: Path, stack: list[Path], source: Source | None = None) -> str:
        """The text of the file at ``path`` with its inputs expanded; ``source`` holds its bytes when
        they are already read (the main file's, read once by the caller)."""
        try:
            if source is None:
                source = Source(path.name, read_document(path, self.limits, str(self.root))[0])
            text, cut = read_text(source, Limits(max_chars=max(self.room, 1)))
        except Exception as error:  # noqa: BLE001 - an unreadable included file is a warning
            if not stack:
                raise  # the main file's own failure is the document's
            self.warnings.append(f"{self._name(path)}: not read ({describe_error(error)})")
            return ""
        if len(text) > self.room:
            text, cut = text[: self.room], True
        text = _COMMENT.sub(r"\1", text)
        self.room -= len(text)
        self.cut = self.cut or cut
        stack = [*stack, path]
        return _INCLUDE.sub(lambda match: self._include(match, path, stack), text)

    def _include(self, match: re.Match[str], including: Path, stack: list[Path]) -> str:
        name = (match.group(1) or match.group(2) or "").strip()
        command = match.group(0).split("{")[0].split()[0]
        label = f"{command}{{{name}}}"
        target = self._resolve(name, including)
        if target is None:
            self.warnings.append(f"{label}: file not found")
        elif not is_inside(str(target), str(self.root)):
            self.warnings.append(f"{label}: outside the scanned folder, not read")
        elif target in stack:
            self.warnings.append(f"{label}: forms a loop, not read again")
        elif len(stack) > _MAX_INCLUDE_DEPTH:
            self.warnings.append(f"{label}: nested more than {_MAX_INCLUDE_DEPTH} deep, not read")
        elif len(self.included) >= _MAX_FILES:
            self.warnings.append(f"{label}: more than {_MAX_FILES} included files, not read")
        elif self.room <= 0:
            self.cut = True
        else:
            self.included.append(self._name(target))
            return "\n" + self.expand(target, stack) + "\n"
        return " "

    def _resolve(self, name: str, including: Path) -> Path | None:
        """The real path of the file ``name`` stands for (looked at, never opened; a folder is no
        match), or None."""
        if not name:
            return None
        names = [name] if Path(name).suffix else [name + ".tex", name]
        for folder in dict.fromkeys((including.parent, self.main.parent)):
            for candidate in names:
                target = _real(folder / candidate)
                if os.path.exists(target) and not os.path.isdir(target):
                    return target
        return None

    def _name(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) else path.name


def _real(path: Path) -> Path:
    """``path`` with every symlink followed (a symlink loop is left as it stands: it is not found)."""
    return Path(os.path.realpath(path))


class _Converter:
    """LaTeX to text in one pass: ``blocks`` holds (heading, text) pairs, a heading opening a
    section and "" continuing the current one; ``metadata`` holds title, author and date."""

    def __init__(self, depth: int = 0) -> None:
        self.blocks: list[tuple[str, str]] = []
        self.metadata = Metadata()
        self._depth = depth
        self._out: list[str] = []

    def run(self, source: str) -> None:
        position = 0
        while position < len(source):
            special = _SPECIAL.search(source, position)
            if special is None:
                self._out.append(source[position:])
                break
            self._out.append(source[position : special.start()])
            position = self._special(source, special.start())
        self._flush("")

    def plain(self, source: str) -> str:
        """A fragment (a heading, the title) as one line of text."""
        if self._depth >= _MAX_NESTING:
            return " ".join(source.split())
        inner = _Converter(self._depth + 1)
        inner.run(source)
        return _TIGHT_PUNCTUATION.sub(r"\1", " ".join(" ".join(text for _, text in inner.blocks).split()))

    def _flush(self, heading: str) -> None:
        text = "".join(self._out)
        self._out = []
        if text.strip() or heading:
            self.blocks.append((heading, text))

    def _special(self, source: str, position: int) -> int:
        char = source[position]
        if char == "\\":
            return self._command(source, position)
        if char == "$":
            return _after_math(source, position)
        if char == "\n":
            end = position
            while end < len(source) and source[end] in " \t\r\n":
                end += 1
            self._out.append("\n" if source.count("\n", position, end) > 1 else " ")
            return end
        self._out.append({"&": " | ", "~": " "}.get(char, ""))  # braces group, and vanish
        return position + 1

    def _command(self, source: str, position: int) -> int:  # noqa: PLR0911, PLR0912  a dispatch on the command's name
        start = position + 1
        if start >= len(source):
            return start
        name_match = _LETTERS.match(source, start)
        if name_match is None:  # a symbol: \\, \&, \', \[ ...
            return self._symbol(source, start)
        name = name_match.group(0)
        bare = name.rstrip("*")
        position = name_match.end()
        if bare in _HEADINGS or bare in _MINOR_HEADINGS:
            position = _skip_optional(source, position)
            text, position = _argument(source, position)
            heading = self.plain(text)
            if bare in _HEADINGS:
                self._flush("")
                self._flush(heading)  # an empty block that opens the section
            else:
                self._out.append(f"\n{heading}\n")
            return position
        if bare in ("title", "author", "date"):
            position = _skip_optional(source, position)
            text, position = _argument(source, position)
            self._set_metadata(bare, self.plain(text))
            return position
        if bare in ("begin", "end"):
            return self._environment(source, bare, position)
        if bare in ("def", "gdef", "edef", "xdef"):
            return _skip_definition(source, position)
        if bare == "let":
            for _ in range(2):
                position = _skip_token(source, _skip_spaces(source, position))
            return position
        if bare in _ACCENTS and bare.isalpha() and name == bare:
            return self._accent(source, bare, position)
        if bare in _DROP:
            for _ in range(_DROP[bare]):
                position = _skip_optional(source, position)
                _, position = _argument(source, position)
            return _skip_optional(source, position)
        if bare in _WORDS:
            self._out.append(_WORDS[bare])
            return self._item_label(source, position) if bare == "item" else position
        # Any other command vanishes; its arguments, if any, are read on as text (\textbf{x} -> x).
        return _skip_optional(source, position, adjacent=True)

    def _symbol(self, source: str, position: int) -> int:
        char = source[position]
        if char == "\\":
            self._out.append("\n")
            return _skip_optional(source, position + 1, adjacent=True)
        if char in ("[", "("):
            closing = "\\]" if char == "[" else "\\)"
            end = source.find(closing, position)
            return len(source) if end < 0 else end + 2
        if char in _ACCENTS:
            return self._accent(source, char, position + 1)
        if char in _ESCAPED:
            self._out.append(char)
        elif char in ",;:":
            self._out.append(" ")
        return position + 1  # \! \/ \- and the like vanish

    def _accent(self, source: str, accent: str, position: int) -> int:
        position = _skip_spaces(source, position) if accent.isalpha() else position
        if position < len(source) and source[position] == "{":
            text, position = _argument(source, position)
        elif position < len(source) and source[position] == "\\":
            match = _LETTERS.match(source, position + 1)
            text, position = (_WORDS.get(match.group(0), ""), match.end()) if match else ("", position + 1)
        else:
            text, position = source[position : position + 1], position + 1
        text = self.plain(text) if "\\" in text or "{" in text else text
        if text:
            self._out.append(unicodedata.normalize("NFC", text[0] + _ACCENTS[accent] + text[1:]))
        return position

    def _item_label(self, source: str, position: int) -> int:
        if position < len(source) and source[position] == "[":
            end = _matching(source, position, "[", "]")
            if end < 0:  # an unclosed label: no label
                return position
            self._out.append(self.plain(source[position + 1 : end]).rstrip(":") + ": ")
            return end + 1
        return position

    def _environment(self, source: str, command: str, position: int) -> int:
        name, position = _argument(source, position)
        name = name.strip()
        if command == "end":
            self._out.append("\n")
            return position
        if name in _SKIPPED_ENVIRONMENTS or name in _VERBATIM_ENVIRONMENTS:
            closing = f"\\end{{{name}}}"
            end = source.find(closing, position)
            end = len(source) if end < 0 else end
            if name in _VERBATIM_ENVIRONMENTS:
                verbatim_start = _skip_optional(source, position)
                for _ in range(_ENVIRONMENT_ARGUMENTS.get(name, 0)):
                    _, verbatim_start = _argument(source, verbatim_start)
                self._out.append("\n" + source[verbatim_start:end] + "\n")
            return end + len(closing)
        position = _skip_optional(source, position)
        for _ in range(_ENVIRONMENT_ARGUMENTS.get(name, 0)):
            position = _skip_optional(source, position)
            _, position = _argument(source, position)
        self._out.append("\n")
        return _skip_optional(source, position)

    def _set_metadata(self, field_name: str, value: str) -> None:
        if field_name == "title" and not self.metadata.title:
            self.metadata = Metadata(value, self.metadata.author, modified=self.metadata.modified)
        elif field_name == "author" and not self.metadata.author:
            self.metadata = Metadata(self.metadata.title, value.strip(" ,"), modified=self.metadata.modified)
        elif field_name == "date" and not self.metadata.modified:
            self.metadata = Metadata(self.metadata.title, self.metadata.author, modified=first_date(value))


def _metadata_of(preamble: str, found_in_body: Metadata) -> Metadata:
    """Title, author and date are usually set in the preamble; the body may set them too."""
    converter = _Converter()
    converter.run(preamble)
    declared = converter.metadata
    return Metadata(
        declared.title or found_in_body.title,
        declared.author or found_in_body.author,
        modified=declared.modified or found_in_body.modified,
    )


def _typography(text: str) -> str:
    return text.replace("---", "—").replace("--", "–").replace("``", "“").replace("''", "”")


def _after_math(source: str, position: int) -> int:
    delimiter = "$$" if source.startswith("$$", position) else "$"
    search = position + len(delimiter)
    while True:
        end = source.find(delimiter, search)
        if end < 0:
            return position + len(delimiter)  # a lone dollar: drop it, keep what follows
        if source[end - 1] != "\\":
            return end + len(delimiter)
        search = end + 1


def _skip_spaces(source: str, position: int) -> int:
    while position < len(source) and source[position] in " \t":
        position += 1
    return position


def _skip_optional(source: str, position: int, adjacent: bool = False) -> int:
    """Past any ``[...]`` arguments (and a ``*``) at ``position``; ``adjacent`` takes only one
    written right after a command, as an unknown command's."""
    while True:
        probe = position if adjacent else _skip_spaces(source, position)
        if probe < len(source) and source[probe] == "*":
            probe += 1
        if probe < len(source) and source[probe] == "[":
            end = _matching(source, probe, "[", "]")
            if end < 0:
                return position
            position = end + 1
            if adjacent:
                return position
            continue
        return position


def _argument(source: str, position: int) -> tuple[str, int]:
    """The next argument: a ``{...}`` group, a control sequence, or a single character."""
    position = _skip_spaces(source, position)
    while position < len(source) and source[position] == "\n":
        position = _skip_spaces(source, position + 1)
    if position >= len(source):
        return "", position
    if source[position] == "{":
        end = _matching(source, position, "{", "}")
        end = len(source) if end < 0 else end
        return source[position + 1 : end], end + 1
    end = _skip_token(source, position)
    return source[position:end], end


def _skip_token(source: str, position: int) -> int:
    if position < len(source) and source[position] == "\\":
        match = _LETTERS.match(source, position + 1)
        return match.end() if match else position + 2
    if position < len(source) and source[position] == "{":
        end = _matching(source, position, "{", "}")
        return len(source) if end < 0 else end + 1
    return position + 1


def _skip_definition(source: str, position: int) -> int:
    r"""Past ``\def\name#1#2{body}``."""
    position = _skip_token(source, _skip_spaces(source, position))
    brace = source.find("{", position)
    if brace < 0:
        return len(source)
    end = _matching(source, brace, "{", "}")
    return len(source) if end < 0 else end + 1


def _matching(source: str, position: int, opening: str, closing: str) -> int:
    """The index of the bracket closing the one at ``position`` (escaped ones do not count), or -1.
    An optional ``[...]`` argument is looked for within :data:`_MAX_OPTIONAL` characters only: a
    search to the end of the source for each of thousands of unclosed ones would take quadratic time."""
    depth = 0
    index = position
    length = len(source) if opening == "{" else min(len(source), position + _MAX_OPTIONAL)
    while index < length:
        char = source[index]
        if char == "\\":
            index += 2
            continue
        if char == opening:
            depth += 1
        elif char == closing:
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return -1

