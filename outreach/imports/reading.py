"""Read an uploaded CSV or XLSX file into (line number, {column: text}) rows, and write the
template."""
import csv
import io
from datetime import date, datetime, time
from itertools import chain, islice

from flask_babel import format_number
from flask_babel import gettext as _

from ..cells import CsvWriter, append_row
from ..errors import ValidationError
from .xlsx_limits import check_xlsx

COLUMNS = ("date", "time", "team", "sector", "kind", "people_count", "sex", "age_band",
           "living_situation",
           "products", "needs", "materials", "orientation", "accompanied", "programme", "digest")
REQUIRED_COLUMNS = ("date", "team", "kind")
EXAMPLE = ("2025-03-14", "21:40", "aurore_nord", "stalingrad", "anonymous", "2", "m", "26_35",
           "rue",
           "crack|alcool", "hebergement", "kit_base:2|naloxone:1", "csapa", "oui", "assore", "")


def read_rows(data, filename, max_rows=None):
    """Rows of an upload (bytes); XLSX when the name ends in .xlsx, else CSV (';' or ',').

    With ``max_rows``, reading stops at the first row over it with a clear error (the web page's
    limit: a small XLSX file can unpack into hundreds of thousands of rows)."""
    if (filename or "").lower().endswith(".xlsx"):
        return _at_most(_xlsx_rows(data, max_rows), max_rows)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError({"file": _("Le fichier doit être encodé en UTF-8.")}) from None
    return _at_most(_csv_rows(text), max_rows)


def file_rows(path):
    """A callable giving a fresh iterator of the rows of the file at ``path`` at each call (what
    ``services.import_contacts`` reads twice): a CSV is read as a stream, line by line, whatever its
    size; an XLSX's rows are streamed from its (compressed) bytes. Errors are those of
    ``read_rows``."""
    if path.lower().endswith(".xlsx"):
        with open(path, "rb") as handle:
            data = handle.read()
        return lambda: _xlsx_rows(data)
    return lambda: _csv_file_rows(path)


def _csv_file_rows(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        try:
            yield from _csv_rows(handle)
        except UnicodeDecodeError:
            raise ValidationError({"file": _("Le fichier doit être encodé en UTF-8.")}) from None


def _at_most(rows, max_rows):
    """The list of ``rows`` (an iterator), or a ValidationError once there are more than
    ``max_rows``."""
    if max_rows is None:
        return list(rows)
    out = list(islice(rows, max_rows + 1))
    if len(out) > max_rows:
        raise ValidationError({"file": _(
            "Le fichier a plus de %(max)s lignes : découpez-le en plusieurs fichiers, ou faites-le "
            "importer avec la commande import-contacts (sans limite).",
            max=format_number(max_rows))})
    return out


def _csv_rows(text):
    """Rows of a CSV given as text or as an open text file (read line by line)."""
    lines = io.StringIO(text, newline="") if isinstance(text, str) else text
    first = lines.readline()
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(chain([first], lines), delimiter=delimiter)
    try:
        columns = _header(next(reader, None))
        for values in reader:
            if any(v.strip() for v in values):
                yield reader.line_num, dict(zip(columns, values[:len(columns)]))
    except csv.Error as exc:  # a field over csv's limit (128 KB), a stray quote...
        raise ValidationError({"file": _("CSV illisible ligne %(line)s : %(error)s",
                                         line=reader.line_num, error=str(exc)[:100])}) from None


def _xlsx_rows(data, max_rows=None):
    """Rows of the first sheet, streamed (openpyxl read-only, through defusedxml) once
    ``check_xlsx`` has bounded what parsing can cost; the sheet's declared dimension is ignored (it
    may claim a million rows)."""
    from openpyxl import load_workbook
    check_xlsx(data, max_rows)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 (openpyxl raises many kinds of errors on a broken file)
        raise ValidationError({"file": _("Le fichier XLSX est illisible.")}) from None
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()
        lines = sheet.iter_rows(values_only=True)
        columns = _header(next(lines, None))
        for number, values in enumerate(lines, start=2):
            texts = [_cell(v) for v in values]
            if any(texts):
                yield number, dict(zip(columns, texts))
    finally:
        book.close()


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()[:5] if isinstance(value, time) else value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _header(values):
    columns = [str(v or "").strip().lower() for v in (values or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ValidationError(
            {"file": _("Colonnes manquantes dans l'en-tête (ligne 1) : %(columns)s.",
                       columns=", ".join(missing))})
    return columns


def template_csv():
    """The downloadable CSV template: UTF-8 with BOM, ';' separator, header and one example row."""
    out = io.StringIO()
    writer = CsvWriter(out, ";")
    writer.writerow(COLUMNS)
    writer.writerow(EXAMPLE)
    return "\ufeff" + out.getvalue()


def template_xlsx(codes):
    """The XLSX template: a "contacts" sheet (header + example) and a "codes" sheet listing valid
    codes."""
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.title = "contacts"
    append_row(sheet, COLUMNS)
    append_row(sheet, EXAMPLE)
    listing = book.create_sheet("codes")
    append_row(listing, ["colonne", "code", "libellé"])
    for column, pairs in codes.items():
        for code, label in pairs:
            append_row(listing, [column, code, label])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
