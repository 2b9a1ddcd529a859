"""Small-cell suppression for aggregates that leave an organisation.

Counts from 1 to ``threshold - 1`` are hidden (shown "< threshold"). In a table
with row and column totals, a row or column holding exactly one hidden cell would
let a reader recover it by subtraction, so the smallest other non-zero cell of
that line is hidden too (secondary suppression), repeated until stable.
Exports reuse ``suppress_value``, ``suppress_series`` and ``suppress_table``.
"""
from dataclasses import dataclass

from flask import current_app


@dataclass(frozen=True)
class Hidden:
    """A suppressed count; ``str()`` gives what is shown."""
    threshold: int
    primary: bool = True

    def __str__(self):
        return f"< {self.threshold}" if self.primary else "s"


def threshold():
    return int(current_app.config.get("SUPPRESSION_THRESHOLD", 5))


def needs_suppression(user):
    """Plan managers and instance admins see every organisation: their aggregates are suppressed."""
    return user.role == "manager" or (user.role == "admin" and user.organisation_id is None)


def is_small(value, limit):
    return value is not None and not isinstance(value, Hidden) and 0 < value < limit


def suppress_value(value, limit=None):
    limit = limit or threshold()
    return Hidden(limit) if is_small(value, limit) else value


def suppress_series(values, limit=None):
    """A list shown with its total: one hidden value drags the smallest other one with it."""
    table = suppress_table([list(values)], limit)
    return table[0]


def suppress_table(rows, limit=None):
    """Primary then secondary suppression of a 2-D list of counts shown with row and column totals."""
    limit = limit or threshold()
    cells = [[suppress_value(v, limit) for v in row] for row in rows]
    changed = True
    while changed:
        changed = False
        for line in _lines(cells):
            changed |= _complement(cells, line)
    return cells


def _lines(cells):
    rows = [[(r, c) for c in range(len(cells[r]))] for r in range(len(cells))]
    width = max((len(r) for r in cells), default=0)
    columns = [[(r, c) for r in range(len(cells)) if c < len(cells[r])] for c in range(width)]
    return rows + (columns if len(cells) > 1 else [])


def _complement(cells, line):
    """Hide one more cell of ``line`` when exactly one is hidden; True when a cell changed."""
    hidden = [p for p in line if isinstance(cells[p[0]][p[1]], Hidden)]
    visible = [p for p in line if _positive(cells[p[0]][p[1]])]
    if len(hidden) != 1 or not visible:
        return False
    r, c = min(visible, key=lambda p: cells[p[0]][p[1]])
    cells[r][c] = Hidden(threshold_of(cells[hidden[0][0]][hidden[0][1]]), primary=False)
    return True


def _positive(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def threshold_of(hidden):
    return hidden.threshold


def display(value):
    """Text for a cell: hidden cells, None (not available) and numbers."""
    if value is None:
        return "—"
    if isinstance(value, Hidden):
        return str(value)
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}".replace(".", ",")
    return f"{int(value):,}".replace(",", "\u202f")
