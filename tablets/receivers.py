"""The tablets app's answers to scoring's domain events (connected in
``TabletsConfig.ready``)."""

from __future__ import annotations

from django.utils.translation import ngettext

from . import services


def open_remarks_before_sign_off(sender, *, skill, **kwargs) -> list[str]:
    """scoring.signals.collect_sign_off_warnings: re-mark requests the chief
    judge raised on the board and no judge has answered yet. Signing off
    locks the marks, so those judges could no longer re-mark: whoever signs
    off (on the board or on scoring's sign-off page) confirms it first."""
    remarks = services.open_remarks_of_skill(skill)
    if not remarks:
        return []
    head = ngettext(
        "%(counter)s re-mark request is still open:",
        "%(counter)s re-mark requests are still open:",
        len(remarks),
    ) % {"counter": len(remarks)}
    items = "; ".join(
        f"{r.entry.competitor_no} · {r.aspect.code} · {r.judge.code}" for r in remarks
    )
    return [f"{head} {items}"]
