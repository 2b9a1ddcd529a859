"""Server-side SVG charts: tiny, no JavaScript, no CDN, CSP-safe (no style attributes).

Each chart draws its axis, its period or row labels and its values as text; the page keeps the
numbers in a table beside it (the text alternative), and the chart's ``aria-label`` says them
too."""
from markupsafe import Markup

from ..numbers import number
from .suppression import Hidden

# Constant templates: Markup.format escapes every argument (labels, numbers) before insertion.
SPARK = Markup('<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" '
               'height="{height}" role="img" aria-label="{label}"><line x1="0" y1="{base}" '
               'x2="{width}" y2="{base}" stroke="currentColor" stroke-opacity="0.3"/><polyline '
               'fill="none" stroke="currentColor" stroke-width="1.5" '
               'points="{points}"/>{last}</svg>')
DOT = Markup('<circle cx="{x}" cy="{y}" r="2" fill="currentColor"/>')
RECT = Markup('<rect x="{x}" y="{y}" width="{width}" height="{height}" fill="currentColor" '
              'fill-opacity="0.7"/>')
TEXT = Markup('<text x="{x}" y="{y}" font-size="11" fill="currentColor" '
              'text-anchor="{anchor}">{text}</text>')
AXIS = Markup('<line x1="{x}" y1="0" x2="{x}" y2="{height}" stroke="currentColor"/>')
BARS = Markup('<svg class="bars" viewBox="0 0 {width} {height}" width="100%" role="img" '
              'aria-label="{label}">{body}</svg>')
LABEL_WIDTH, VALUE_WIDTH, LABEL_CHARS = 150, 60, 24


def _number(value):
    return f"{float(value):g}"


def _numbers(series):
    return [v if isinstance(v, (int, float)) and not isinstance(v, Hidden) else None
            for v in series]


def described(label, rows):
    """The chart's text alternative: "label: row 1 value; row 2 value…" with the values as shown."""
    return f"{label} : " + " ; ".join(f"{name} {number(v)}" for name, v in rows) if rows else label


def sparkline(series, width=120, height=28, label="", months=()):
    """A polyline of the monthly values over a baseline, the last month marked; gaps (None,
    suppressed) are skipped. With ``months`` the aria-label says every month's value."""
    values = _numbers(series)
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return Markup("")
    top = max(known) or 1
    step = width / max(len(values) - 1, 1)
    points = [(i * step, height - 2 - (v / top) * (height - 4)) for i, v in enumerate(values)
              if v is not None]
    last = DOT.format(x=f"{points[-1][0]:.1f}", y=f"{points[-1][1]:.1f}")
    text = described(label, list(zip(months, series))) if months else label
    return SPARK.format(width=_number(width), height=_number(height), label=text,
                        base=_number(height - 2),
                        points=" ".join(f"{x:.1f},{y:.1f}" for x, y in points), last=last)


def _short(text):
    text = str(text)
    return text if len(text) <= LABEL_CHARS else text[:LABEL_CHARS - 1] + "…"


def bars(rows, width=320, bar=14, label=""):
    """Horizontal bars for a breakdown [(label, value)]: one line per row, its label on the left
    of the axis and its value (as shown, "< 5" included) at the end of the bar; hidden and
    missing cells draw no bar."""
    values = _numbers([v for _l, v in rows])
    top = max([v for v in values if v is not None] or [0]) or 1
    pitch = bar + 6
    height = max(len(rows) * pitch, 1)
    parts = [AXIS.format(x=LABEL_WIDTH, height=_number(height))]
    for i, ((name, shown), v) in enumerate(zip(rows, values)):
        y, length = i * pitch, (v / top) * width if v else 0
        middle = _number(y + bar / 2 + 4)
        parts.append(TEXT.format(x=LABEL_WIDTH - 6, y=middle, anchor="end", text=_short(name)))
        if length:
            parts.append(RECT.format(x=LABEL_WIDTH, y=_number(y), width=f"{length:.1f}",
                                     height=_number(bar)))
        parts.append(TEXT.format(x=f"{LABEL_WIDTH + length + 4:.1f}", y=middle, anchor="start",
                                 text=number(shown)))
    return BARS.format(width=_number(LABEL_WIDTH + width + VALUE_WIDTH), height=_number(height),
                       label=described(label, rows), body=Markup("").join(parts))
