"""``{% discrepancy_items discrepancies status.signed_off %}``: the items of
the chief judge's list of discrepancies (docs/chief-board.md), built in
Python.

A national skill can list hundreds of discrepancies, each with its scores by
judge code and a re-mark form; as a template loop that was most of the
board's time. The markup is what ``board.html`` gave: per item the competitor
number, aspect code, scores by judge code and spread, and — until sign-off —
one form: re-mark (judges ticked, a reason) or, as its second button,
acknowledge (scores stand)."""

from html import escape as _escape

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from tablets.values import plain

register = template.Library()


def escape(value: object) -> str:
    """As ``django.utils.html.escape`` (which is ``html.escape`` of ``str``),
    without its lazy-string wrapper: called some ten times per item."""
    return _escape(str(value))


@register.simple_tag(takes_context=True)
def discrepancy_items(context, discrepancies: list[dict], signed_off: bool) -> SafeString:
    skill = context["skill"]
    words: dict[str, str] = {
        "spread": escape(_("Spread")),
        "acked": escape(_("acknowledged")),
        "reason": escape(_("Reason (shown to the judges)")),
        "remark": escape(_("Request re-mark")),
        "ack": escape(_("Acknowledge (scores stand)")),
        "remark_url": escape(reverse("tablets:board_remark", args=[skill.pk])),
        "ack_url": escape(reverse("tablets:board_acknowledge", args=[skill.pk])),
        "csrf": escape(str(context.get("csrf_token", ""))),
    }
    return mark_safe("".join(_item(x, signed_off, words) for x in discrepancies))  # all escaped


def _item(x: dict, signed_off: bool, w: dict[str, str]) -> str:
    d = x["d"]
    scores = "".join(
        f'<span class="score"><span class="jc">{escape(code)}</span> <b>{escape(v)}</b></span>'
        for _id, code, v in x["scores"]
    )
    head = (
        f'<div class="disc-head"><span class="competitor-no">{escape(d.competitor_no)}</span>'
        f" · <b>{escape(d.aspect_code)}</b>\n"
        f'      <span class="scores">{scores}</span>\n'
        f'      <span class="muted">{w["spread"]} {escape(plain(d.spread))}</span>'
        + (f' <span class="tag ok">{w["acked"]}</span>' if d.acknowledged else "")
        + "</div>"
    )
    form = ""
    if not signed_off:
        judges = "".join(
            f'<label class="choice"><input type="checkbox" name="judge" value="{escape(i)}"'
            f" checked> {escape(code)}</label>"
            for i, code, _v in x["scores"]
        )
        ack = (
            ""
            if d.acknowledged
            else f'\n      <button type="submit" class="secondary" formaction="{w["ack_url"]}">'
            f"{w['ack']}</button>"
        )
        form = (
            f'\n    <form method="post" action="{w["remark_url"]}" class="remark-form">'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{w["csrf"]}">'
            f'<input type="hidden" name="entry" value="{escape(d.entry_id)}">'
            f'<input type="hidden" name="aspect" value="{escape(d.aspect_id)}">\n'
            f'      <span class="judges">{judges}</span>\n'
            f'      <input name="reason" placeholder="{w["reason"]}" maxlength="200"'
            f' aria-label="{w["reason"]}">\n'
            f'      <button type="submit" class="primary">{w["remark"]}</button>{ack}</form>'
        )
    acked = " acked" if d.acknowledged else ""
    return f'<li class="disc{acked}">\n    {head}{form}\n  </li>'
