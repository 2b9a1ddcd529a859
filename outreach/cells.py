"""Cells of every file people open in a spreadsheet (CSV, XLSX): text never runs as a formula.

One rule (OWASP "CSV injection"): a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return is neutralised. In CSV a single quote is put in front of it (the spreadsheet shows
the text, never evaluates it); in XLSX the cell is written as text with Excel's "quote prefix", so
it shows exactly the label. A number written as text ("-3,5") is not a formula and is left alone.
Every writer (dashboard exports, contact rows, plan catalogue, import template) goes through this
module.
"""
import csv
import re

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+([.,]\d+)?")


def is_formula_like(value):
    """True for text a spreadsheet would read as a formula."""
    return (isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)
            and not _NUMBER.fullmatch(value))


def neutralise(value):
    """The value for a CSV cell: formula-like text gets a leading single quote, anything else is
    unchanged."""
    return "'" + value if is_formula_like(value) else value


def restore(value):
    """The text that ``neutralise`` wrote, read back from one of our CSV files (the plan
    catalogue)."""
    if isinstance(value, str) and value.startswith("'") and is_formula_like(value[1:]):
        return value[1:]
    return value


class CsvWriter:
    """``csv.writer`` whose every row goes through ``neutralise``."""

    def __init__(self, out, delimiter=";"):
        self._writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")

    def writerow(self, values):
        self._writer.writerow([neutralise(v) for v in values])


def append_row(sheet, values):
    """Append ``values`` to an openpyxl worksheet; formula-like text is stored as quoted text,
    not a formula."""
    sheet.append(list(values))
    for cell in sheet[sheet.max_row]:
        if is_formula_like(cell.value):
            cell.data_type = "s"
            cell.quotePrefix = True
