"""``{% grid_cells row.cells na %}``: the judge cells of one row of the chief
judge's progress grid (docs/chief-board.md), built in Python.

A national skill's grid has about 1,800 such cells and is fetched every 5 s;
a template loop costs tens of microseconds a cell, this a fraction of one.
The markup is what the template gave: ``<td class="num done|part|none">done/
total</td>``, and for every cell a judge is not expected to score, recused or
outside their marking groups alike, the same ``<td class="num na">…</td>``."""

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def grid_cells(cells, not_expected: str) -> SafeString:
    na = f'<td class="num na">{escape(not_expected)}</td>'
    out = []
    for cell in cells:
        if not cell.total:
            out.append(na)
            continue
        state = "done" if cell.done >= cell.total else "part" if cell.done else "none"
        out.append(f'<td class="num {state}">{cell.done}/{cell.total}</td>')
    return mark_safe("".join(out))  # integers and an escaped text only
