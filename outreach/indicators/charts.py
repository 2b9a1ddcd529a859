"""Server-side SVG charts: tiny, no JavaScript, no CDN, CSP-safe (no style attributes)."""
from markupsafe import Markup, escape

from .suppression import Hidden


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
    return Markup(f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
                  f'role="img" aria-label="{escape(label)}"><polyline fill="none" stroke="currentColor" '
                  f'stroke-width="1.5" points="{points}"/></svg>')


def bars(rows, width=320, bar=14, label=""):
    """Horizontal bars for a breakdown [(label, value)]; hidden cells draw no bar."""
    values = _numbers([v for _l, v in rows])
    top = max([v for v in values if v is not None] or [0]) or 1
    height = len(rows) * (bar + 4)
    rects = "".join(f'<rect x="0" y="{i * (bar + 4)}" width="{(v / top) * width:.1f}" height="{bar}" '
                    f'fill="currentColor"/>' for i, v in enumerate(values) if v)
    return Markup(f'<svg class="bars" viewBox="0 0 {width} {max(height, 1)}" width="100%" height="{height}" '
                  f'preserveAspectRatio="none" role="img" aria-label="{escape(label)}">{rects}</svg>')
