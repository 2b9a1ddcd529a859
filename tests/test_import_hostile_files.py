"""Tiny hostile spreadsheets are refused quickly with bounded memory (issue 18): a dimension
claiming the whole sheet, one row of 3 million cells, 400 MB of shared strings. Each is answered
4xx within 5 s, and the request's Python allocations stay far below what the file would unpack
to."""
import io
import tracemalloc
import zipfile

import pytest
from openpyxl import Workbook
from test_import_contacts import GOOD, HEADER, _counts, _upload

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
MB = 1024 * 1024


def _base():
    book = Workbook()
    book.active.append(["x"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx(parts):
    """A workbook whose parts named in ``parts`` (name -> iterable of byte chunks) replace
    openpyxl's own."""
    base = zipfile.ZipFile(io.BytesIO(_base()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for info in base.infolist():
            if info.filename not in parts:
                archive.writestr(info.filename, base.read(info.filename))
        for name, chunks in parts.items():
            with archive.open(name, "w", force_zip64=True) as part:
                for chunk in chunks:
                    part.write(chunk)
    return out.getvalue()


def _row(number, values):
    cells = "".join(f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{v}</t></is></c>'
                    for i, v in enumerate(values))
    return f'<row r="{number}">{cells}</row>'


def _sheet(body, dimension="A1:P2"):
    return (f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><dimension ref="{dimension}"/>'
            f"<sheetData>{body}</sheetData></worksheet>").encode()


def whole_sheet_dimension(line):
    """A few KB: a header and one row, but a dimension that claims every row and column of the
    sheet."""
    body = _row(1, HEADER.split(";")) + _row(2, line.split(";"))
    return _xlsx({"xl/worksheets/sheet1.xml": [_sheet(body, "A1:XFD1048576")]})


def one_row_of_three_million_cells():
    def chunks():
        yield (f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><sheetData>'
               + _row(1, HEADER.split(";"))
               + '<row r="2">').encode()
        for _ in range(300):
            yield b"<c><v>1</v></c>" * 10_000
        yield b"</row></sheetData></worksheet>"
    return _xlsx({"xl/worksheets/sheet1.xml": chunks()})


def four_hundred_mb_of_shared_strings():
    def chunks():
        yield (f'<?xml version="1.0" encoding="UTF-8"?><sst {NS} count="1" '
               'uniqueCount="1"><si><t>'.encode())
        block = b"A" * MB
        for _ in range(400):
            yield block
        yield b"</t></si></sst>"
    return _xlsx({"xl/sharedStrings.xml": chunks()})


@pytest.fixture(scope="module")
def hostile():
    return {"cells": one_row_of_three_million_cells(),
            "strings": four_hundred_mb_of_shared_strings()}


def _measured_upload(client, data):
    tracemalloc.start()
    try:
        response = _upload(client, data, name="contacts.xlsx")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return response, peak


def test_the_files_are_tiny(hostile):
    # openpyxl's theme and styles make most of it
    assert len(whole_sheet_dimension(GOOD[0])) < 8_000
    assert len(hostile["cells"]) < 200_000 and len(hostile["strings"]) < 800_000


@pytest.mark.parametrize(("name", "message"), [("cells", "cellules sur une ligne"),
                                               ("strings", "Mo de textes partagés")])
def test_a_file_that_unpacks_into_too_much_is_refused_with_413(app, client, login, hostile, name,
                                                               message):
    login("supervisor@aurore.demo")
    response, peak = _measured_upload(client, hostile[name])
    assert response.status_code == 413
    assert message in response.get_data(as_text=True)
    # refused before unpacking: memory, not the clock (a busy machine is slow)
    assert peak < 40 * MB
    with app.app_context():
        assert _counts()["contacts"] == 0


def test_a_dimension_claiming_the_whole_sheet_is_ignored(app, client, login):
    login("supervisor@aurore.demo")
    wrong_team = GOOD[0].replace("aurore_nord", "nowhere")
    response, peak = _measured_upload(client, whole_sheet_dimension(wrong_team))
    assert response.status_code == 422 and "nowhere" in response.get_data(as_text=True)
    assert peak < 40 * MB
    response, peak = _measured_upload(client, whole_sheet_dimension(GOOD[0]))
    assert response.status_code == 302 and peak < 40 * MB
    with app.app_context():
        assert _counts()["contacts"] == 1


def test_a_cell_past_the_last_column_or_row_is_refused(client, login):
    login("supervisor@aurore.demo")
    far = '<row r="2"><c r="XFD2" t="inlineStr"><is><t>x</t></is></c></row>'
    data = _xlsx({"xl/worksheets/sheet1.xml": [_sheet(_row(1, HEADER.split(";")) + far)]})
    response = _upload(client, data, name="contacts.xlsx")
    assert response.status_code == 413 and "XFD2" in response.get_data(as_text=True)
    bad = _xlsx({"xl/worksheets/sheet1.xml": [b'<!DOCTYPE x [<!ENTITY a "aaaa">]>' + _sheet("")]})
    assert _upload(client, bad, name="contacts.xlsx").status_code == 400


def test_a_csv_field_over_the_csv_limit_is_a_400_not_a_500(client, login):
    login("supervisor@aurore.demo")
    data = (HEADER + "\r\n" + '"' + "x" * 200_000 + '";' + GOOD[0].split(";", 1)[1]
            + "\r\n").encode()
    response = _upload(client, data, name="contacts.csv")
    assert (response.status_code == 400
            and "CSV illisible ligne 2" in response.get_data(as_text=True))
