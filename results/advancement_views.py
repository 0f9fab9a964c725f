"""Organisers' selection-round pages. Thin: the rules live in ``advancement``.

``competitions/advancement/skills/<id>/`` — choose a rule, preview who qualifies (GET with
the rule in the query string), confirm (POST); earlier advancements of the
skill are listed with links. ``competitions/advancement/<id>/`` — one advancement with its
entries, and the undo button (POST).
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from competitions.models import Advancement, Skill
from portal.authz import permission_required

from . import advancement


class AdvancementRuleForm(forms.Form):
    rule = forms.ChoiceField(
        label=gettext_lazy("Rule"), choices=Advancement.Rule.choices, widget=forms.RadioSelect
    )
    top_n = forms.IntegerField(label=gettext_lazy("N"), min_value=1, required=False)
    min_score = forms.DecimalField(
        label=gettext_lazy("Minimum final score"),
        min_value=Decimal(0),
        max_digits=7,
        decimal_places=2,
        required=False,
    )

    def clean(self):
        data = super().clean()
        rule = data.get("rule")
        if rule == Advancement.Rule.TOP_N and data.get("top_n") is None:
            self.add_error("top_n", _("Enter N."))
        if rule == Advancement.Rule.MIN_SCORE and data.get("min_score") is None:
            self.add_error("min_score", _("Enter the minimum final score."))
        return data

    def rule_kwargs(self) -> dict:
        if self.cleaned_data["rule"] == Advancement.Rule.TOP_N:
            return {"top_n": self.cleaned_data["top_n"]}
        return {"min_score": self.cleaned_data["min_score"]}


@permission_required("teams.organiser")
@require_http_methods(["GET", "POST"])
def advancement_skill(request: HttpRequest, skill_id: int) -> HttpResponse:
    skill = get_object_or_404(Skill.objects.select_related("event__programme"), pk=skill_id)
    error = ""
    preview = None
    if request.method == "POST":
        form = AdvancementRuleForm(request.POST)
        if form.is_valid():
            try:
                done = advancement.advance(skill, request.user, **form.rule_kwargs())
            except advancement.AdvancementRefused as exc:
                error = exc.message
            else:
                messages.success(
                    request,
                    _("%(n)d entries advanced into %(event)s.")
                    % {"n": done.entries.count(), "event": done.target_skill.event.name},
                )
                return redirect("results:advancement_detail", pk=done.pk)
    else:
        form = AdvancementRuleForm(request.GET if "rule" in request.GET else None)
    if form.is_bound and form.is_valid():
        preview = advancement.plan(skill, **form.rule_kwargs())
    return render(
        request,
        "results/advancement_skill.html",
        {
            "skill": skill,
            "form": form,
            "preview": preview,
            "error": error,
            "target": advancement.target_skill(skill),
            "history": advancement.advancements_of(skill),
        },
        status=400 if error or (request.method == "POST" and form.errors) else 200,
    )


@permission_required("teams.organiser")
@require_http_methods(["GET", "POST"])
def advancement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    done = get_object_or_404(
        Advancement.objects.select_related(
            "source_skill__event", "target_skill__event", "by", "undone_by"
        ),
        pk=pk,
    )
    if request.method == "POST":
        try:
            advancement.undo(done, request.user)
        except advancement.AdvancementRefused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Advancement undone; its entries were deleted."))
        return redirect("results:advancement_detail", pk=done.pk)
    return render(
        request,
        "results/advancement_detail.html",
        {
            "advancement": done,
            "entries": done.entries.select_related("delegation", "created_entry"),
            "undo_problem": advancement.undo_problem(done),
        },
    )


urlpatterns: list = [
    path("advancement/skills/<int:skill_id>/", advancement_skill, name="advancement_skill"),
    path("advancement/<int:pk>/", advancement_detail, name="advancement_detail"),
]
