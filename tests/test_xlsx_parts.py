"""Workbook parts read by patterns (scanner/extract/plainxml.py) give the values the streaming lxml
reader gives, cell for cell and string for string, and the patterns are used only where they may be.

Each workbook is one openpyxl wrote, with its worksheet and shared strings replaced by XML written
here the way Excel, LibreOffice and the .NET SDK write them, and by variants that must not be read
by the patterns (a prefix, a comment, an inline string, a character reference, ...).
"""

from __future__ import annotations

import re
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from gapscan.scanner.extract import Limits, extract_file, plainxml, xlsx
from gapscan.scanner.common.documents import Document

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
HEAD = (
    f'<worksheet xmlns="{MAIN}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" mc:Ignorable="x14ac" '
    'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac">'
    '<dimension ref="A1:F4"/><sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews>'
    '<sheetFormatPr defaultRowHeight="15" x14ac:dyDescent="0.25"/><cols><col min="1" max="1" width="20"/></cols>'
)
TAIL = (
    '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
    '<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
    'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"><x14:dataValidations count="0"/>'
    "</ext></extLst></worksheet>"
)
# {date} is the workbook's date style. Strings, numbers in every notation, dates with and without a
# time, a formula and a shared formula with their cached values, a boolean, an error, a formula's
# text, an empty styled cell and a row with a gap.
ROWS = [
    '<row r="1" spans="1:6" x14ac:dyDescent="0.25"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
    '<c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c></row>',
    '<row r="2" spans="1:6" x14ac:dyDescent="0.25"><c r="A2" t="s"><v>4</v></c><c r="B2" s="{date}"><v>45352</v></c>'
    '<c r="C2"><v>12.5</v></c><c r="D2"><f>C2*2</f><v>25</v></c><c r="E2" t="b"><v>1</v></c>'
    '<c r="F2" t="e"><v>#N/A</v></c></row>',
    '<row r="3" spans="1:6"><c r="A3" s="2"/><c r="B3" s="{date}"><v>45352.75</v></c><c r="C3"><v>1E-3</v></c>'
    '<c r="D3"><f t="shared" ref="D3:D4" si="0">C3*2</f><v>2.0000000000000001E-3</v></c>'
    '<c r="E3" t="str"><f>"R"&amp;"D"</f><v>RD</v></c></row>',
    '<row r="4" spans="1:6"><c r="C4"><v>-7</v></c><c r="D4"><f t="shared" si="0"/><v>-14</v></c>'
    '<c r="F4" t="s"><v>5</v></c><c r="G4" t="s"><v>6</v></c></row>',
    '<row r="6" spans="1:6" x14ac:dyDescent="0.25"/>',
]
STRINGS = [
    "<si><t>Ref</t></si>", "<si><t>Raised</t></si>", "<si><t>R&amp;D cost &lt;EUR&gt; &quot;net&quot;</t></si>",
    '<si><t xml:space="preserve"> Owner </t></si>', "<si><t>NCR-1</t></si>",
    "<si><t>line one\r\nline two\rthree&#13;&#x41;&#66;</t></si>", "<si><t/></si>", "<si><t>a_x005F_x000D_b</t></si>",
]


def sheet(rows: list[str] = ROWS, head: str = HEAD, tail: str = TAIL, sheet_data: str = "sheetData") -> str:
    return f"{DECLARATION}{head}<{sheet_data}>{''.join(rows)}</{sheet_data}>{tail}"


def strings(items: list[str] = STRINGS, root: str = f'<sst xmlns="{MAIN}" count="9" uniqueCount="8">') -> str:
    return f"{DECLARATION}{root}{''.join(items)}</sst>"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A workbook openpyxl wrote, and the style its dates have."""
    workbook = Workbook()
    workbook.active.append(["Ref", datetime(2024, 3, 1)])
    path = tmp_path_factory.mktemp("base") / "base.xlsx"
    workbook.save(path)
    with zipfile.ZipFile(path) as archive:
        date_style = re.search(r'<c r="B1" s="(\d+)"', archive.read("xl/worksheets/sheet1.xml").decode())
    assert date_style
    return path, date_style.group(1)


def workbook(base: tuple[Path, str], folder: Path, sheet_xml: str | bytes, strings_xml: str = strings()) -> Path:
    source, date_style = base
    path = folder / "register.xlsx"
    if isinstance(sheet_xml, str):
        sheet_xml = sheet_xml.replace("{date}", date_style).encode()
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as rewritten:
        for item in original.infolist():
            data = original.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = sheet_xml
            elif item.filename == "[Content_Types].xml":  # openpyxl writes inline strings: add the part
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            elif item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdStrings" Type="http://schemas.'
                                    b'openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
                                    b'Target="sharedStrings.xml"/></Relationships>')
            rewritten.writestr(item.filename, data)
        rewritten.writestr("xl/sharedStrings.xml", strings_xml.encode())
    return path


def values(path: Path) -> tuple[list[str], list[object]]:
    """The workbook's shared strings and its first sheet's rows (an error as the last row)."""
    with path.open("rb") as stream:
        reader = xlsx._Reader(stream, read_only=True, data_only=True, keep_links=False)
        reader.read()
        rows: list[object] = []
        try:
            rows.extend(xlsx._rows(reader.wb, reader.wb.worksheets[0]))
        except Exception as error:  # noqa: BLE001 - the error is part of what the readers must agree on
            rows.append(repr(error))
        reader.wb.close()
    return reader.shared_strings, rows


def read_both_ways(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[tuple, tuple, list[str]]:
    """The values with the patterns where they may be used, then streamed; and which way each part
    went: "strings", then "sheet: complete", "sheet: partial" or "sheet: streamed"."""
    ways: list[str] = []
    plain_sheet, plain_strings = xlsx.plain_sheet, xlsx.plain_strings

    class Spy:
        def __init__(self, rows: plainxml.PlainSheet) -> None:
            self.rows = rows

        def __iter__(self):  # type: ignore[no-untyped-def]
            yield from self.rows
            ways.append(f"sheet: {'complete' if self.rows.complete else 'partial'}")

        @property
        def complete(self) -> bool:
            return self.rows.complete

    def spied_sheet(archive, name):  # type: ignore[no-untyped-def]
        rows = plain_sheet(archive, name)
        if rows is None:
            ways.append("sheet: streamed")
            return None
        return Spy(rows)

    def spied_strings(archive, name):  # type: ignore[no-untyped-def]
        found = plain_strings(archive, name)
        if found is not None:
            ways.append("strings")
        return found

    with monkeypatch.context() as patch:
        patch.setattr(xlsx, "plain_sheet", spied_sheet)
        patch.setattr(xlsx, "plain_strings", spied_strings)
        plain = values(path)
    with monkeypatch.context() as patch:
        patch.setattr(xlsx, "plain_sheet", lambda archive, name: None)
        patch.setattr(xlsx, "plain_strings", lambda archive, name: None)
        streamed = values(path)
    return plain, streamed, ways


def test_an_excel_sheet_is_read_by_the_patterns_to_the_same_values(base, tmp_path, monkeypatch):
    plain, streamed, ways = read_both_ways(workbook(base, tmp_path, sheet()), monkeypatch)
    assert ways == ["strings", "sheet: complete"]
    assert plain == streamed
    texts, rows = plain
    assert texts[2] == 'R&D cost <EUR> "net"'
    assert texts[5] == "line one\nline two\nthree\rAB"
    assert texts[6] == "" and texts[7] == "a_x000D_b"
    assert rows[1] == ["NCR-1", datetime(2024, 3, 1), 12.5, 25, True, "#N/A"]
    assert rows[2] == [None, datetime(2024, 3, 1, 18), 0.001, 0.002, "RD"]
    assert rows[3] == [-7, -14, texts[5], ""]
    assert rows[4] == []


def test_the_text_a_user_sees_is_the_same_either_way(base, tmp_path, monkeypatch):
    path = workbook(base, tmp_path, sheet())
    document = Document(path.name, "xlsx", path.stat().st_size, path.stat().st_mtime)
    plain = extract_file(path, document, Limits())
    with monkeypatch.context() as patch:
        patch.setattr(xlsx, "plain_sheet", lambda archive, name: None)
        patch.setattr(xlsx, "plain_strings", lambda archive, name: None)
        streamed = extract_file(path, document, Limits())
    assert plain == streamed
    assert "NCR-1 | 2024-03-01 | 12.5 | 25 | True | #N/A" in plain.text


# Inline strings: plain, escaped, empty, without their string, and an is element in a number cell.
INLINE = (
    '<c r="A3" t="inlineStr"><is><t>inline</t></is></c><c r="G3" t="inlineStr"><is><t xml:space="preserve"> '
    'a &amp; b\r\n</t></is></c><c r="H3" t="inlineStr"><is><t/></is></c><c r="I3" t="inlineStr"/>'
    '<c r="J3" t="n"><is><t>not read</t></is></c><c r="K3" t="inlineStr"><v>not read</v></c>'
)


def pretty(xml: str) -> str:
    return re.sub(r"(<(?:row|c|v|f)\b)", r"\n  \1", xml).replace("</row>", "\n</row>")


# name, worksheet, shared strings, which way each part goes, how many rows (an error is one)
CASES = [
    ("pretty-printed", sheet([pretty(row) for row in ROWS]), strings([f"\n  {item}" for item in STRINGS]),
     ["strings", "sheet: complete"], 5),
    ("LibreOffice", sheet([row.replace(' x14ac:dyDescent="0.25"', "").replace('t="s">', 's="0" t="s">')
                           for row in ROWS], head=f'<worksheet xmlns="{MAIN}">'),
     strings(), ["strings", "sheet: complete"], 5),
    ("columns out of order, a column twice", sheet([
        '<row r="1"><c r="C1" t="s"><v>0</v></c><c r="A1" t="s"><v>1</v></c><c r="C1" t="s"><v>4</v></c></row>',
        '<row r="2"><c r="D2"><v>4</v></c><c r="B2"><v>2</v></c></row>', *ROWS[2:]]),
     strings(), ["strings", "sheet: complete"], 5),
    ("inline strings", sheet([*ROWS[:2], ROWS[2].replace('<c r="A3" s="2"/>', INLINE), *ROWS[3:]]),
     strings(), ["strings", "sheet: complete"], 5),
    ("an inline string of rich text", sheet([*ROWS[:2], ROWS[2].replace(
        '<c r="A3" s="2"/>', '<c r="A3" t="inlineStr"><is><r><t>in</t></r><r><t>line</t></r></is></c>'), *ROWS[3:]]),
     strings(), ["strings", "sheet: partial"], 5),
    ("a character reference in a value", sheet([ROWS[0], ROWS[1].replace("<v>12.5</v>", "<v>1&#50;.5</v>"),
                                                *ROWS[2:]]),
     strings(), ["strings", "sheet: partial"], 5),
    ("a cell without a reference", sheet([*ROWS[:3], ROWS[3].replace('<c r="C4">', "<c>"), ROWS[4]]),
     strings(), ["strings", "sheet: partial"], 5),
    ("an empty style", sheet([ROWS[0], ROWS[1].replace('<c r="C2">', '<c r="C2" s="">')]),
     strings(), ["strings", "sheet: partial"], 2),
    ("a cell in another namespace", sheet([ROWS[0].replace('<c r="B1" t="s">', '<c xmlns="urn:x" r="B1" t="s">'),
                                           *ROWS[1:]]),
     strings(), ["strings", "sheet: partial"], 5),
    ("a row after sheetData", sheet(ROWS, tail=TAIL.replace(
        "<x14:dataValidations", '<row r="9"><c r="A9" t="s"><v>0</v></c></row><x14:dataValidations')),
     strings(), ["strings", "sheet: partial"], 6),
    ("a row before sheetData", sheet(ROWS, head=HEAD.replace(
        "<cols>", '<extLst><ext uri="x"><row r="9"><c r="A9" t="s"><v>0</v></c></row></ext></extLst><cols>')),
     strings(), ["strings", "sheet: streamed"], 6),
    ("the .NET SDK's prefixes", re.sub(r"<(/?)(?=[a-zA-Z])", r"<\1x:", sheet(
        [row.replace(' x14ac:dyDescent="0.25"', "") for row in ROWS], head=f'<worksheet xmlns:x="{MAIN}">',
        tail="</worksheet>")),
     strings([item.replace("<si>", "<x:si>").replace("</si>", "</x:si>").replace("<t", "<x:t")
              .replace("</t>", "</x:t>") for item in STRINGS], root=f'<x:sst xmlns:x="{MAIN}">')
     .replace("</sst>", "</x:sst>"), ["sheet: streamed"], 5),
    ("rows in another namespace", sheet(ROWS, head=HEAD + '<sheetPr xmlns="urn:x"><row r="1"/></sheetPr>'),
     strings(), ["strings", "sheet: streamed"], 5),
    ("sheetData inside an element that sets another namespace",
     sheet(ROWS, head=HEAD + '<wrapper xmlns="urn:x">', tail="</wrapper>" + TAIL), strings(),
     ["strings", "sheet: streamed"], 0),
    ("a comment", sheet(ROWS, head=HEAD + "<!-- <sheetData> -->"), strings(), ["strings", "sheet: streamed"], 5),
    ("a processing instruction", sheet(ROWS, tail="<?note rows?>" + TAIL), strings(),
     ["strings", "sheet: streamed"], 5),
    ("malformed", sheet([*ROWS[:2], ROWS[2].removesuffix("</row>"), *ROWS[3:]]), strings(),
     ["strings", "sheet: streamed"], 1),
    ("rich text and phonetic strings", sheet(), strings([
        *STRINGS[:2], '<si><r><rPr><b/></rPr><t>R&amp;D</t></r><r><t xml:space="preserve"> cost</t></r></si>',
        *STRINGS[3:5], '<si><t>NCR</t><rPh sb="0" eb="3"><t>enu-si-aru</t></rPh></si>', *STRINGS[6:]]),
     ["sheet: complete"], 5),
]


@pytest.mark.parametrize(("sheet_xml", "strings_xml", "expected_ways", "rows"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_every_variant_reads_the_same_and_only_plain_parts_take_the_patterns(
        base, tmp_path, monkeypatch, sheet_xml, strings_xml, expected_ways, rows):
    plain, streamed, ways = read_both_ways(workbook(base, tmp_path, sheet_xml, strings_xml), monkeypatch)
    assert ways == expected_ways
    assert plain == streamed
    assert len(plain[1]) == rows


def test_a_part_in_another_encoding_or_over_the_limit_is_streamed(base, tmp_path, monkeypatch):
    utf16 = sheet().replace('encoding="UTF-8"', 'encoding="UTF-16"').replace("{date}", base[1]).encode("utf-16")
    plain, streamed, ways = read_both_ways(workbook(base, tmp_path, utf16), monkeypatch)
    assert ways == ["strings", "sheet: streamed"]
    assert plain == streamed and len(plain[1]) == len(ROWS)
    (tmp_path / "small").mkdir()
    monkeypatch.setattr(plainxml, "PLAIN_PART_LIMIT", 1000)
    plain, streamed, ways = read_both_ways(workbook(base, tmp_path / "small", sheet()), monkeypatch)
    assert ways == ["strings", "sheet: streamed"]
    assert plain == streamed


def test_an_unreadable_row_number_fails_the_sheet_either_way(base, tmp_path, monkeypatch):
    plain, streamed, ways = read_both_ways(workbook(base, tmp_path, sheet([ROWS[0], ROWS[1].replace(
        'r="2" spans', 'r="2.5" spans')])), monkeypatch)
    assert plain == streamed
    assert plain[1][-1] == "ValueError('2.5 is not a valid row number')"


def test_a_sheet_malformed_far_down_keeps_the_rows_before_the_error_either_way(base, tmp_path, monkeypatch):
    register = [f'<row r="{n}"><c r="A{n}" t="s"><v>4</v></c><c r="B{n}"><v>{n}</v></c></row>' for n in range(7, 5000)]
    broken = sheet([*ROWS, *register, ROWS[2].replace('r="3"', 'r="5000"').removesuffix("</row>")])
    plain, streamed, ways = read_both_ways(workbook(base, tmp_path, broken), monkeypatch)
    assert ways == ["strings", "sheet: streamed"]
    assert plain == streamed
    assert len(plain[1]) > 1000 and plain[1][-1].startswith("ParseError")


def test_a_workbook_openpyxl_writes_is_read_by_the_patterns(tmp_path, monkeypatch):
    workbook = Workbook()
    register = workbook.active
    register.append(["Ref", "Raised", "Owner & deputy", "Cost", "Closed", "Check"])
    for n in range(1, 40):
        register.append([f"NCR-{n}", datetime(2024, 1, n % 28 + 1), f"  <Quinn>  {n}", n * 1.25, n % 2 == 0, "=D2*2"])
    register.cell(row=50, column=9, value="far out")
    path = tmp_path / "register.xlsx"
    workbook.save(path)
    plain, streamed, ways = read_both_ways(path, monkeypatch)
    assert ways == ["sheet: complete"]  # openpyxl writes its strings inline
    assert plain == streamed
    # A formula openpyxl wrote has no value yet: read without one, as openpyxl reads it.
    assert plain[1][1] == ["NCR-1", datetime(2024, 1, 2), "  <Quinn>  1", 1.25, False, None]
    assert plain[1][-1] == ["far out"]


def test_cells_out_of_column_order_are_placed_by_column_and_the_last_one_sets_the_width(base, tmp_path, monkeypatch):
    plain, streamed, _ = read_both_ways(workbook(base, tmp_path, sheet([
        '<row r="1"><c r="C1" t="s"><v>0</v></c><c r="A1" t="s"><v>1</v></c><c r="C1" t="s"><v>4</v></c></row>',
        '<row r="2"><c r="D2"><v>4</v></c><c r="B2"><v>2</v></c></row>'])), monkeypatch)
    assert plain == streamed
    assert plain[1] == [["Raised", "NCR-1"], [2]]


def test_long_runs_of_spaces_between_and_inside_tags_are_read_in_time(base, tmp_path):
    """Whitespace runs of 300,000 characters where XML allows them (in a start tag, between cells,
    between strings): a pattern that started with whitespace would be tried at each of those
    characters, in time growing with the square of the run (minutes here); the limit is 10 s."""
    from gapscan.scanner.extract import extract_all

    run = " " * 300_000
    rows = [ROWS[0].replace('<c r="B1" t="s">', f'<c r="B1"{run}t="s">').replace("</c><c", f"</c>{run}<c"),
            ROWS[1].replace('<row r="2"', f'<row{run}r="2"'), *ROWS[2:],
            f'<row r="7">{run}<extLst/></row>']  # not plain, after a run: the rest goes to lxml
    rich = f"{run}<si><r><t>rich</t></r></si>"  # the same for the strings
    path = workbook(base, tmp_path, sheet(rows), strings([rich, *(f"{run}{item}" for item in STRINGS)]))
    document = Document(path.name, "xlsx", path.stat().st_size, path.stat().st_mtime)
    [result] = list(extract_all([(path, document)], Limits(timeout_seconds=10), 1))
    assert 'rich | Ref | Raised | R&D cost <EUR> "net"' in result.text, result
    assert "Owner | 2024-03-01 | 12.5 | 25 | True | #N/A" in result.text
