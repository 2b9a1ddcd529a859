"""Small-cell suppression: primary (1..threshold-1) and secondary (no recovery from totals)."""
from outreach.indicators.suppression import (
    Hidden,
    display,
    suppress_series,
    suppress_table,
    suppress_value,
)


def hidden(cells):
    return [[isinstance(v, Hidden) for v in row] for row in cells]


def test_counts_from_one_to_four_are_hidden_zero_and_five_are_not():
    assert [display(suppress_value(v, 5)) for v in (0, 1, 4, 5, 120)] == ["0", "< 5", "< 5", "5", "120"]


def test_a_single_hidden_cell_in_a_line_drags_the_smallest_other_one():
    values = suppress_series([3, 40, 12, 0], 5)
    assert [display(v) for v in values] == ["< 5", "40", "s", "0"]


def test_secondary_suppression_holds_on_rows_and_columns():
    table = [[2, 30, 8],
             [15, 20, 9],
             [11, 6, 40]]
    cells = suppress_table(table, 5)
    flags = hidden(cells)
    for line in flags + [list(col) for col in zip(*flags)]:
        assert sum(line) != 1, cells  # never exactly one hidden cell in a row or a column
    assert flags[0][0] and isinstance(cells[0][0], Hidden) and cells[0][0].primary


def test_nothing_to_hide_leaves_the_table_untouched():
    assert suppress_table([[10, 0], [7, 8]], 5) == [[10, 0], [7, 8]]
