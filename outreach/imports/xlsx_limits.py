"""What an uploaded XLSX may cost, checked before openpyxl parses it.

An XLSX file is a zip of XML parts: a few kilobytes can unpack into hundreds of megabytes of shared
strings, a row of millions of cells, or a dimension that claims the whole sheet. Before parsing, the
zip's declared sizes are checked (zipfile never inflates a part past its declared size: a lie fails
its CRC), then each worksheet is scanned as a SAX stream (defusedxml, no DTD or entity) counting
cells per row and in all, and column and row positions. Only then does openpyxl read the first
sheet, in read-only mode.
"""
import io
import re
import zipfile

from defusedxml.expatreader import DefusedExpatParser
from flask_babel import format_number
from flask_babel import gettext as _

from ..errors import TooLarge, ValidationError

MAX_PARTS = 200                      # zip members of a workbook (a plain one has about 10)
MAX_UNZIPPED = 64 * 1024 * 1024      # all parts together, uncompressed
MAX_SHARED_STRINGS = 16 * 1024 * 1024  # xl/sharedStrings.xml, uncompressed (openpyxl holds it all)
MAX_COLUMNS = 64                     # cells in one row, and the last column a cell may sit in
MAX_ROW_NUMBER = 1_048_576           # Excel's last row
CELLS_PER_ROW = 32                   # with a row limit: most cells per allowed row, on average
_SHEET = re.compile(r"^xl/worksheets/[^/]+\.xml$", re.IGNORECASE)
_CELL_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")


def _too_large(reason):
    return TooLarge({"file": _("Fichier refusé : %(reason)s", reason=reason)})


def _mb(size):
    return format_number(round(size / 1024 / 1024, 1))


def check_xlsx(data, max_rows=None):
    """Raise TooLarge (or ValidationError for a broken zip) unless parsing ``data`` stays
    bounded."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ValidationError({"file": _("Le fichier XLSX est illisible.")}) from None
    if len(parts) > MAX_PARTS:
        raise _too_large(_("%(n)s parties dans le classeur, %(max)s au plus.", n=len(parts),
                           max=MAX_PARTS))
    for part in parts:
        shared = part.filename.lower().endswith("sharedstrings.xml")
        if shared and part.file_size > MAX_SHARED_STRINGS:
            raise _too_large(_("%(size)s Mo de textes partagés, %(max)s Mo au plus.",
                               size=_mb(part.file_size), max=_mb(MAX_SHARED_STRINGS)))
    unzipped = sum(p.file_size for p in parts)
    if unzipped > MAX_UNZIPPED:
        raise _too_large(_("%(size)s Mo une fois décompressé, %(max)s Mo au plus : découpez-le ou "
                           "enregistrez-le en CSV.", size=_mb(unzipped), max=_mb(MAX_UNZIPPED)))
    max_cells = None if max_rows is None else (max_rows + 1) * CELLS_PER_ROW
    for part in parts:
        if _SHEET.match(part.filename):
            _scan_sheet(archive, part, max_cells)


def _column_number(letters):
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def _ignore(*_args):
    return None


class _SheetCounter:
    """SAX content handler counting cells per row and in all; raises TooLarge at the first one
    over a limit. Every other SAX event (characters, end tags...) is ignored."""

    def __init__(self, max_cells):
        self.max_cells, self.cells, self.in_row = max_cells, 0, 0

    def __getattr__(self, _name):
        return _ignore

    def startElement(self, name, attrs):
        tag = name[name.find(":") + 1:]  # "c" or "x:c"
        if tag == "c":
            self.cells, self.in_row = self.cells + 1, self.in_row + 1
            _check_cell(attrs.get("r"), self.in_row, self.cells, self.max_cells)
        elif tag == "row":
            self.in_row = 0
            number = attrs.get("r")
            if number is not None and (not number.isdigit() or int(number) > MAX_ROW_NUMBER):
                raise _too_large(_("ligne %(row)s hors de la feuille.", row=number[:12]))


def _scan_sheet(archive, part, max_cells):
    """Count cells as a SAX stream (defusedxml: no DTD, no entity); memory stays that of one
    element."""
    parser = DefusedExpatParser(forbid_dtd=True)
    parser.setContentHandler(_SheetCounter(max_cells))
    try:
        with archive.open(part) as stream:
            parser.parse(stream)
    except TooLarge:
        raise
    except Exception:  # noqa: BLE001 (broken XML, a DTD, a bad zip member: all unreadable)
        raise ValidationError({"file": _("Le fichier XLSX est illisible.")}) from None


def _check_cell(reference, in_row, cells, max_cells):
    if in_row > MAX_COLUMNS:
        raise _too_large(_("plus de %(max)s cellules sur une ligne.", max=MAX_COLUMNS))
    if max_cells is not None and cells > max_cells:
        raise _too_large(_("plus de %(max)s cellules remplies.", max=format_number(max_cells)))
    if reference:
        found = _CELL_REF.match(reference)
        if found is None or _column_number(found.group(1)) > MAX_COLUMNS:
            raise _too_large(_("cellule %(cell)s au-delà de la colonne %(max)s.",
                               cell=reference[:12], max=MAX_COLUMNS))
