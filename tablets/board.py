"""The chief judge's board for one skill (the skill's chief judge and
organisers): live progress grid, discrepancies with re-mark requests, tablet
sessions, PINs and QR sign-in sheets, sign-off. Thin views over
``tablets.services`` and ``scoring.services``.

The board shows competitor numbers, like the tablets: the chief judge
needs no names to run the marking, and a screen at the venue is seen by many.
Before sign-off it also shows judges by code only, and a cell a judge is not
expected to score does not say whether that is recusal (which would tell the
entry's delegation) or a marking group: see docs/chief-board.md.
"""

from __future__ import annotations

from io import BytesIO

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from competitions.models import Skill
from portal.authz import objectgetter, permission_required
from scoring import services as scoring
from scoring.models import Aspect
from teams import roles
from teams.models import Entry, Judge

from . import services
from .models import JudgeCredential, TabletSession


def _managed_skill(request: HttpRequest, skill_pk: int) -> Skill:
    """The skill of a view behind ``scoring.manage_skill``."""
    return get_object_or_404(Skill.objects.select_related("event"), pk=skill_pk)


def _skill_judge(skill: Skill | int, judge_pk: int) -> Judge:
    judge = Judge.objects.filter(pk=judge_pk, assignments__skill=skill).first()
    if judge is None:
        raise Http404
    return judge


def _judge_of_skill(request: HttpRequest, skill_pk: int, judge_pk: int) -> Judge:
    """The judge of the URL, assigned to its skill (404 otherwise)."""
    return _skill_judge(skill_pk, judge_pk)


def _back(skill: Skill, anchor: str = "") -> HttpResponse:
    url = reverse("tablets:board", kwargs={"skill_pk": skill.pk})
    return redirect(f"{url}#{anchor}" if anchor else url)


@permission_required("tablets.board_index")
def index(request: HttpRequest) -> HttpResponse:
    if roles.is_organiser(request.user):
        skills = Skill.objects.select_related("event").order_by("event__code", "code")
    else:
        skills = roles.chief_skills(request.user).order_by("event__code", "code")
    return render(request, "tablets/board_index.html", {"skills": skills})


def _discrepancies(skill: Skill, status: scoring.MarkingStatus) -> list[dict]:
    ids = dict(Judge.objects.filter(assignments__skill=skill).values_list("code", "id"))
    out = []
    for d in status.discrepancies:
        # (judge code, score) pairs; older versions of the service gave a dict.
        pairs = d.scores.items() if isinstance(d.scores, dict) else d.scores
        out.append(
            {"d": d, "scores": [(ids.get(code), code, services.plain(v)) for code, v in pairs]}
        )
    return out


@never_cache
@permission_required("scoring.manage_skill", fn=objectgetter(Skill, "skill_pk"))
def board(request: HttpRequest, skill_pk: int) -> HttpResponse:
    skill = _managed_skill(request, skill_pk)
    status = scoring.marking_status(skill)
    judges = services.skill_judges(skill)
    discrepancies = _discrepancies(skill, status)
    return render(
        request,
        "tablets/board.html",
        {
            "skill": skill,
            "grid": services.progress_grid(skill),
            "status": status,
            "discrepancies": discrepancies,
            "unacknowledged": [x for x in discrepancies if not x["d"].acknowledged],
            "blockers": services.sign_off_blockers(skill, status),
            "remarks": services.open_remarks_of_skill(skill),
            "judges": judges,
            "names": status.signed_off,
            "locks": services.pin_locks(judges),
            "sessions": services.live_sessions(skill),
        },
    )


@never_cache
@permission_required("scoring.manage_skill", fn=objectgetter(Skill, "skill_pk"))
def grid(request: HttpRequest, skill_pk: int) -> HttpResponse:
    """The progress grid alone, fetched by the board every few seconds."""
    skill = _managed_skill(request, skill_pk)
    return render(
        request,
        "tablets/board_grid.html",
        {"skill": skill, "grid": services.progress_grid(skill)},
    )


@require_POST
@permission_required("scoring.manage_skill", fn=objectgetter(Skill, "skill_pk"))
def remark(request: HttpRequest, skill_pk: int) -> HttpResponse:
    skill = _managed_skill(request, skill_pk)
    entry = get_object_or_404(Entry, pk=request.POST.get("entry"), skill=skill)
    aspect = get_object_or_404(Aspect, pk=request.POST.get("aspect"), skill=skill)
    judges = list(
        Judge.objects.filter(pk__in=request.POST.getlist("judge"), assignments__skill=skill)
    )
    if not judges:
        messages.error(request, _("Choose at least one judge to re-mark."))
    else:
        services.request_remark(entry, aspect, judges, request.user, request.POST.get("reason", ""))
        messages.success(
            request,
            _("Re-mark of %(no)s · %(aspect)s requested from %(judges)s.")
            % {
                "no": entry.competitor_no,
                "aspect": aspect.code,
                "judges": ", ".join(j.code for j in judges),
            },
        )
    return _back(skill, "discrepancies")


@require_POST
@permission_required("scoring.manage_skill", fn=objectgetter(Skill, "skill_pk"))
def acknowledge(request: HttpRequest, skill_pk: int) -> HttpResponse:
    skill = _managed_skill(request, skill_pk)
    entry = get_object_or_404(Entry, pk=request.POST.get("entry"), skill=skill)
    aspect = get_object_or_404(Aspect, pk=request.POST.get("aspect"), skill=skill)
    try:
        scoring.acknowledge_discrepancy(entry, aspect, request.user, request.POST.get("note", ""))
    except scoring.MarkRefused as exc:
        messages.error(request, exc.message)
    return _back(skill, "discrepancies")


@require_POST
@permission_required("scoring.manage_skill", fn=objectgetter(Skill, "skill_pk"))
def acknowledge_all(request: HttpRequest, skill_pk: int) -> HttpResponse:
    """The discrepancies the board showed (``pair`` = "entry:aspect"), with one note."""
    skill = _managed_skill(request, skill_pk)
    pairs = []
    for raw in request.POST.getlist("pair")[:5000]:
        entry_id, _sep, aspect_id = raw.partition(":")
        if entry_id.isdigit() and aspect_id.isdigit():
            pairs.append((int(entry_id), int(aspect_id)))
    try:
        done, skipped = services.acknowledge_all(
            skill, pairs, request.user, request.POST.get("note", "")[:500]
        )
    except scoring.MarkRefused as exc:
        messages.error(request, exc.message)
    else:
        text = _("%(n)d discrepancies acknowledged.") % {"n": done}
        if skipped:
            text += " " + _(
                "%(n)d were skipped: re-marked or acknowledged since the page was shown."
            ) % {"n": skipped}
        messages.success(request, text)
    return _back(skill, "discrepancies")


@never_cache
@require_http_methods(["GET", "POST"])
@permission_required("scoring.manage_skill", fn=objectgetter(Skill, "skill_pk"))
def sign_off(request: HttpRequest, skill_pk: int) -> HttpResponse:
    """GET asks for confirmation; POST signs off once confirmed, and with open
    re-mark requests only when the chief judge confirms that too."""
    skill = _managed_skill(request, skill_pk)
    remarks = services.open_remarks_of_skill(skill)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        if remarks and request.POST.get("remarks_ok") != "yes":
            messages.error(
                request,
                _("Re-mark requests are still open: confirm that you sign off without them."),
            )
        else:
            try:
                # Confirmed here; scoring asks again under its lock.
                scoring.sign_off(
                    skill, request.user, warnings_confirmed=request.POST.get("remarks_ok") == "yes"
                )
            except scoring.MarkRefused as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Marks signed off and locked."))
                return _back(skill)
    status = scoring.marking_status(skill)
    return render(
        request,
        "tablets/sign_off.html",
        {
            "skill": skill,
            "status": status,
            "blockers": services.sign_off_blockers(skill, status),
            "remarks": remarks,
        },
    )


@require_POST
@permission_required("scoring.manage_skill", fn=objectgetter(Skill, "skill_pk"))
def reopen(request: HttpRequest, skill_pk: int) -> HttpResponse:
    skill = _managed_skill(request, skill_pk)
    try:
        scoring.reopen(skill, request.user, request.POST.get("reason", ""))
    except scoring.MarkRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Marking reopened."))
    return _back(skill)


@require_POST
@permission_required("scoring.manage_skill", fn=objectgetter(Skill, "skill_pk"))
def revoke_session(request: HttpRequest, skill_pk: int, pk: int) -> HttpResponse:
    skill = _managed_skill(request, skill_pk)
    session = get_object_or_404(TabletSession, pk=pk, judge__assignments__skill=skill)
    services.end_session(session, by_user=request.user)
    messages.success(request, _("Tablet of %(code)s signed out.") % {"code": session.judge.code})
    return _back(skill, "tablets")


@require_POST
@permission_required("scoring.manage_skill", fn=objectgetter(Skill, "skill_pk"))
@permission_required("tablets.manage_judge", fn=_judge_of_skill)
def new_pin(request: HttpRequest, skill_pk: int, judge_pk: int) -> HttpResponse:
    """Shows the new PIN on this response only: it is stored hashed and never
    put in a message (messages may live in a cookie)."""
    skill = _managed_skill(request, skill_pk)
    judge = _skill_judge(skill, judge_pk)
    first = not JudgeCredential.objects.filter(judge=judge).exists()
    pin = services.generate_pin(judge, request.user)
    response = render(
        request,
        "tablets/pin.html",
        {
            "skill": skill,
            "judge": judge,
            "pin": pin,
            "first": first,
            "names": scoring.names_revealed(skill),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@permission_required("scoring.manage_skill", fn=objectgetter(Skill, "skill_pk"))
@permission_required("tablets.manage_judge", fn=_judge_of_skill)
def unlock_pin(request: HttpRequest, skill_pk: int, judge_pk: int) -> HttpResponse:
    """Lift the PIN lock of a judge's code, from every address."""
    skill = _managed_skill(request, skill_pk)
    judge = _skill_judge(skill, judge_pk)
    services.unlock_pin(judge)
    messages.success(request, _("PIN sign-in of %(code)s unlocked.") % {"code": judge.code})
    return _back(skill, "judges")


@require_POST
@permission_required("scoring.manage_skill", fn=objectgetter(Skill, "skill_pk"))
def revoke_links(request: HttpRequest, skill_pk: int, judge_pk: int) -> HttpResponse:
    skill = _managed_skill(request, skill_pk)
    judge = _skill_judge(skill, judge_pk)
    services.revoke_links(judge)
    messages.success(request, _("QR sign-in of %(code)s revoked.") % {"code": judge.code})
    return _back(skill, "judges")


def _qr_svg(url: str) -> str:
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    # Drop the XML prolog so the SVG can sit inline in the page.
    return svg[svg.index("<svg") :]


@never_cache
@permission_required("scoring.manage_skill", fn=objectgetter(Skill, "skill_pk"))
def qr_sheet(request: HttpRequest, skill_pk: int) -> HttpResponse:
    """GET explains; POST makes a fresh link per judge (earlier links of these
    judges stop working) and shows the printable sheet once."""
    skill = _managed_skill(request, skill_pk)
    if request.method != "POST":
        return render(
            request,
            "tablets/qr_intro.html",
            {"skill": skill, "judges": services.skill_judges(skill)},
        )
    judges = services.skill_judges(skill)
    cards = []
    for judge, token in services.create_links(judges, request.user):
        url = request.build_absolute_uri(reverse("tablets:link", kwargs={"token": token}))
        cards.append({"judge": judge, "svg": mark_safe(_qr_svg(url))})
    response = render(
        request,
        "tablets/qr_sheet.html",
        {"skill": skill, "cards": cards, "names": scoring.names_revealed(skill)},
    )
    response["Cache-Control"] = "no-store"
    return response
