"""Server-side SVG charts: tiny, no JavaScript, no CDN, CSP-safe (no style attributes)."""
from markupsafe import Markup

from .suppression import Hidden

# Constant templates: Markup.format escapes every argument (labels, numbers) before insertion.
SPARK = Markup('<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
               'aria-label="{label}"><polyline fill="none" stroke="currentColor" stroke-width="1.5" '
               'points="{points}"/></svg>')
RECT = Markup('<rect x="0" y="{y}" width="{width}" height="{height}" fill="currentColor"/>')
BARS = Markup('<svg class="bars" viewBox="0 0 {width} {box_height}" width="100%" height="{height}" '
              'preserveAspectRatio="none" role="img" aria-label="{label}">{rects}</svg>')


def _number(value):
    return f"{float(value):g}"


def _numbers(series):
    return [v if isinstance(v, (int, float)) and not isinstance(v, Hidden) else None for v in series]


def sparkline(series, width=120, height=28, label=""):
    """A polyline of the monthly values; gaps (None, suppressed) break nothing, they are skipped."""
    values = _numbers(series)
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return Markup("")
    top = max(known) or 1
    step = width / max(len(values) - 1, 1)
    points = " ".join(f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}"
                      for i, v in enumerate(values) if v is not None)
    return SPARK.format(width=_number(width), height=_number(height), label=label, points=points)


def bars(rows, width=320, bar=14, label=""):
    """Horizontal bars for a breakdown [(label, value)]; hidden cells draw no bar."""
    values = _numbers([v for _l, v in rows])
    top = max([v for v in values if v is not None] or [0]) or 1
    height = len(rows) * (bar + 4)
    rects = Markup("").join(RECT.format(y=_number(i * (bar + 4)), width=f"{(v / top) * width:.1f}",
                                        height=_number(bar)) for i, v in enumerate(values) if v)
    return BARS.format(width=_number(width), box_height=_number(max(height, 1)), height=_number(height),
                       label=label, rects=rects)
