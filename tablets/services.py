"""The tablets app's services in one namespace, for its views and for other
apps (``from tablets import services``). Each question has its own module;
this file only gathers their public names:

* ``pins`` — a judge's PIN, hashed and checked; ``pin_throttle`` — failed
  sign-ins and the locks the board lists;
* ``sessions`` — tablet sessions from a PIN or a QR ``links`` card;
* ``scope`` — what a judge is offered (skills, entries, aspects, progress);
  ``sheet`` — one entry's marking sheet; ``poll`` — the tablet's refresh;
* ``marks`` — the mark endpoint; ``remarks`` — re-mark requests;
* ``chief`` — a skill's judges, acknowledging in bulk; ``grid`` — the chief judge's progress
  grid; ``sign_off`` — what stops sign-off.

Anonymity (docs/integrity.md): every structure handed to the judge's pages
carries competitor numbers only; names appear only when
``names_revealed(skill)``; delegations never appear in what a judge sees.
"""

from __future__ import annotations

from .chief import acknowledge_all, skill_judges
from .grid import Grid, GridCell, GridRow, progress_grid
from .links import create_links, link_for_token, revoke_links
from .marks import MarkReply, submit_mark
from .pin_throttle import (
    PIN_CODE_FAILURE_LIMIT,
    PIN_CODE_WINDOW,
    PIN_COOLOFF,
    PIN_FAILURE_LIMIT,
    PinLock,
    PinThrottled,
    pin_locked,
    pin_locks,
    unlock_pin,
)
from .pins import PIN_LENGTH, check_pin, generate_pin
from .poll import poll, poll_etag
from .remarks import open_remarks, open_remarks_of_skill, request_remark, resolve_remarks
from .scope import (
    EntryRow,
    Scope,
    entry_names,
    entry_rows,
    find_entry,
    is_assigned,
    judge_skills,
    load_scope,
    next_unmarked,
    offered_entry,
)
from .sessions import (
    LAST_SEEN_EVERY,
    VENUE_TZ,
    end_session,
    live_sessions,
    session_expiry,
    session_for_token,
    session_hours,
    start_session,
    token_hash,
)
from .sheet import (
    AspectItem,
    Choice,
    CriterionGroup,
    SubGroup,
    choices_for,
    entry_sheet,
    measurement_step,
)
from .sign_off import Blocker, Blockers, sign_off_blockers
from .values import plain

__all__ = [
    "LAST_SEEN_EVERY",
    "PIN_CODE_FAILURE_LIMIT",
    "PIN_CODE_WINDOW",
    "PIN_COOLOFF",
    "PIN_FAILURE_LIMIT",
    "PIN_LENGTH",
    "VENUE_TZ",
    "AspectItem",
    "Blocker",
    "Blockers",
    "Choice",
    "CriterionGroup",
    "EntryRow",
    "Grid",
    "GridCell",
    "GridRow",
    "MarkReply",
    "PinLock",
    "PinThrottled",
    "Scope",
    "SubGroup",
    "acknowledge_all",
    "check_pin",
    "choices_for",
    "create_links",
    "end_session",
    "entry_names",
    "entry_rows",
    "entry_sheet",
    "find_entry",
    "generate_pin",
    "is_assigned",
    "judge_skills",
    "link_for_token",
    "live_sessions",
    "load_scope",
    "measurement_step",
    "next_unmarked",
    "offered_entry",
    "open_remarks",
    "open_remarks_of_skill",
    "pin_locked",
    "pin_locks",
    "plain",
    "poll",
    "poll_etag",
    "progress_grid",
    "request_remark",
    "resolve_remarks",
    "revoke_links",
    "session_expiry",
    "session_for_token",
    "session_hours",
    "sign_off_blockers",
    "skill_judges",
    "start_session",
    "submit_mark",
    "token_hash",
    "unlock_pin",
]
