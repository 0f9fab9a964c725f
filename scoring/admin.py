"""Organisers' console for marking schemes, marks, the ledger and sign-off.

Marks are never saved by the admin itself: the mark form calls
``marks.write_mark`` (with a required reason) during validation, so a
refusal (recusal, lock, range, stale version …) becomes a form error, and
``save_model`` has nothing left to save. The ledger is read-only; the marking
state changes only through the sign-off / reopen actions, which call the
services.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, TypedDict

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from competitions.models import Skill
from portal.admin import OrganiserInline, OrganiserModelAdmin

from . import marks, schemes, signoff
from .models import (
    Aspect,
    Criterion,
    JudgementDescriptor,
    LedgerRecord,
    Mark,
    MarkingGroup,
    SkillMarking,
    SubCriterion,
)
from .refusals import MarkRefused

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _Total(TypedDict):
    _total: Decimal | None


# -- marking scheme ----------------------------------------------------------------


class SubCriterionInline(OrganiserInline, admin.TabularInline):
    model = SubCriterion
    extra = 0
    fields = ["code", "name", "marking_day", "order"]


@admin.register(Criterion)
class CriterionAdmin(OrganiserModelAdmin):
    list_display = ["code", "name", "skill", "max_mark", "aspects_total", "order"]
    list_filter = ["skill__event", "skill"]
    search_fields = ["code", "name", "skill__code", "skill__name"]
    autocomplete_fields = ["skill"]
    list_select_related = ["skill"]
    inlines = [SubCriterionInline]

    def get_queryset(self, request):
        from django.db.models import Sum

        return super().get_queryset(request).annotate(_total=Sum("sub_criteria__aspects__max_mark"))

    @admin.display(description=_("aspects total"), ordering="_total")
    def aspects_total(self, obj: WithAnnotations[Criterion, _Total]) -> Decimal | None:
        return obj._total


@admin.register(SubCriterion)
class SubCriterionAdmin(OrganiserModelAdmin):
    list_display = ["code", "name", "criterion", "marking_day", "order"]
    list_filter = ["criterion__skill__event", "criterion__skill"]
    search_fields = ["code", "name", "criterion__code", "criterion__skill__code"]
    autocomplete_fields = ["criterion"]
    list_select_related = ["criterion__skill"]


class JudgementDescriptorInline(OrganiserInline, admin.TabularInline):
    model = JudgementDescriptor
    extra = 0
    max_num = 4


class AspectForm(forms.ModelForm):
    class Meta:
        model = Aspect
        fields = [
            "skill",
            "sub_criterion",
            "code",
            "kind",
            "description",
            "extra_description",
            "requirement",
            "wsos_section",
            "max_mark",
            "order",
        ]

    def clean(self):
        data = super().clean()
        skill, sub = data.get("skill"), data.get("sub_criterion")
        if skill and sub and sub.criterion.skill_id != skill.pk:
            raise ValidationError(
                {"sub_criterion": _("This sub-criterion belongs to another skill.")}
            )
        aspect = self.instance
        if aspect.pk and aspect.marks.exists():
            # Marks already given must stay valid marks of this aspect.
            if data.get("kind") and data["kind"] != aspect.kind:
                raise ValidationError({"kind": _("The aspect has marks; its type cannot change.")})
            new_max = data.get("max_mark")
            highest = aspect.marks.aggregate(m=Max("value"))["m"]
            if (
                new_max is not None
                and aspect.kind == "M"
                and highest is not None
                and highest > new_max
            ):
                raise ValidationError(
                    {
                        "max_mark": _("A mark of %(value)s is already given to this aspect.")
                        % {"value": highest}
                    }
                )
        return data


@admin.register(Aspect)
class AspectAdmin(OrganiserModelAdmin):
    form = AspectForm
    list_display = ["code", "kind", "max_mark", "sub_criterion", "skill", "order"]
    list_filter = ["skill__event", "skill", "kind"]
    search_fields = ["code", "description", "skill__code", "skill__name"]
    autocomplete_fields = ["skill", "sub_criterion"]
    list_select_related = ["skill", "sub_criterion"]
    inlines = [JudgementDescriptorInline]
    change_list_template = "scoring/admin/aspect_change_list.html"

    def get_urls(self):
        return [
            path(
                "schemes/",
                self.admin_site.admin_view(self.scheme_summary_view),
                name="scoring_scheme_summary",
            ),
            *super().get_urls(),
        ]

    def scheme_summary_view(self, request: HttpRequest):
        """Every skill (optionally of one event) with its total and problems."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        skills = Skill.objects.select_related("event").order_by("event__code", "code")
        event_id = request.GET.get("event")
        if event_id and event_id.isdigit():
            skills = skills.filter(event_id=int(event_id))
        rows = [(skill, schemes.scheme_summary(skill)) for skill in skills]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Marking schemes"),
            "rows": rows,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "scoring/admin/scheme_summary.html", context)


@admin.register(MarkingGroup)
class MarkingGroupAdmin(OrganiserModelAdmin):
    list_display = ["name", "skill"]
    list_filter = ["skill__event", "skill"]
    search_fields = ["name", "skill__code"]
    autocomplete_fields = ["skill", "judges", "entries", "aspects"]


# -- marks ---------------------------------------------------------------------------


class MarkForm(forms.ModelForm):
    """Every field feeds ``write_mark``; ``clean`` performs the write."""

    value = forms.CharField(label=_("mark"), max_length=20)
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 2}))
    expected_version = forms.IntegerField(
        label=_("Expected version"), widget=forms.HiddenInput, required=False
    )

    class Meta:
        model = Mark
        fields = ["entry", "aspect", "judge"]

    request: HttpRequest | None = None  # set by MarkAdmin.get_form

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.result: marks.MarkWriteResult | None = None
        if "judge" in self.fields:
            # Only an import may leave an M mark without a judge; here a
            # judge answers for the value written.
            self.fields["judge"].required = True
        if self.instance.pk:
            self.fields["value"].initial = self.instance.value
            self.fields["expected_version"].initial = self.instance.version
        else:
            self.fields["expected_version"].initial = None

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        instance = self.instance
        entry = instance.entry if instance.pk else data.get("entry")
        aspect = instance.aspect if instance.pk else data.get("aspect")
        judge = data.get("judge") or (instance.judge if instance.pk else None)
        if not (entry and aspect and judge):
            return data
        request = self.request
        try:
            self.result = marks.write_mark(
                entry=entry,
                aspect=aspect,
                judge=judge,
                value=data.get("value"),
                actor=request.user if request else None,
                expected_version=(data.get("expected_version") if instance.pk else 0),
                reason=data.get("reason", ""),
                source="admin",
                device=(request.META.get("HTTP_USER_AGENT", "") if request else ""),
                ip=(request.META.get("REMOTE_ADDR") if request else None),
            )
        except MarkRefused as exc:
            raise ValidationError(exc.message, code=exc.code) from None
        return data


@admin.register(Mark)
class MarkAdmin(OrganiserModelAdmin):
    form = MarkForm
    list_display = ["entry", "aspect", "judge", "kind", "value", "version", "updated_at"]
    list_filter = ["skill__event", "skill", "kind"]
    search_fields = ["entry__competitor_no", "aspect__code", "judge__code"]
    list_select_related = ["entry__skill", "aspect", "judge"]
    autocomplete_fields = ["entry", "aspect", "judge"]

    def get_readonly_fields(self, request, obj=None):
        # Which mark it is never changes; only its value (and, for an M mark,
        # the judge answerable for it) does. A J mark is one judge's own score.
        if obj is None:
            return []
        fixed = ["entry", "aspect", "current_value", "version"]
        return [*fixed, "judge"] if obj.kind == "J" else fixed

    def get_fields(self, request, obj=None):
        if obj is not None:
            return [
                "entry",
                "aspect",
                "judge",
                "current_value",
                "version",
                "value",
                "reason",
                "expected_version",
            ]
        return ["entry", "aspect", "judge", "value", "reason", "expected_version"]

    @admin.display(description=_("current mark"))
    def current_value(self, obj: Mark) -> Decimal:
        return obj.value

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["fields"] = ["entry", "aspect", "judge"]
        else:
            kwargs["fields"] = [] if obj.kind == "J" else ["judge"]
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"request": request})

    def save_form(self, request, form, change):
        # The write already happened in MarkForm.clean() through write_mark.
        return form.result.mark if form.result else form.instance

    def save_model(self, request, obj, form, change) -> None:
        """Nothing to save: the service wrote the mark and its ledger record."""

    def save_related(self, request, form, formsets, change) -> None:
        """Marks have no relations edited here."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# -- ledger ---------------------------------------------------------------------------


@admin.register(LedgerRecord)
class LedgerRecordAdmin(OrganiserModelAdmin):
    list_display = [
        "skill",
        "seq",
        "action",
        "entry",
        "aspect",
        "judge",
        "old_value",
        "new_value",
        "actor",
        "source",
        "created_at",
    ]
    list_filter = ["action", "source", "skill__event", "skill"]
    search_fields = [
        "skill__code",
        "entry__competitor_no",
        "aspect__code",
        "judge__code",
        "reason",
        "client_key",
    ]
    list_select_related = ["skill", "entry", "aspect", "judge", "actor"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# -- marking state ------------------------------------------------------------------------


class ReopenForm(forms.Form):
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 3}))


@admin.register(SkillMarking)
class SkillMarkingAdmin(OrganiserModelAdmin):
    list_display = [
        "skill",
        "status",
        "scheme",
        "signed_off_at",
        "signed_off_by",
        "ledger_length",
        "sign_off_page",
    ]
    list_filter = ["status", "skill__event"]
    search_fields = ["skill__code", "skill__name"]
    list_select_related = ["skill", "signed_off_by"]
    actions = ["sign_off_action", "reopen_action"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("marking scheme"))
    def scheme(self, obj: SkillMarking) -> str:
        summary = schemes.scheme_summary(obj.skill_id)
        if summary.ok:
            return format_html("✓ {}", summary.total)
        return format_html(
            "✗ {}<ul>{}</ul>",
            summary.total,
            format_html_join("", "<li>{}</li>", ((p,) for p in summary.problems)),
        )

    @admin.display(description=_("sign-off page"))
    def sign_off_page(self, obj: SkillMarking) -> str:
        url = reverse("scoring:sign_off", args=[obj.skill_id])
        return format_html('<a href="{}">{}</a>', url, _("open"))

    @admin.action(description=_("Sign off the selected skills"))
    def sign_off_action(self, request, queryset) -> None:
        for marking in queryset.select_related("skill"):
            try:
                signoff.sign_off(marking.skill, request.user)
            except (MarkRefused, PermissionDenied) as exc:
                self.message_user(request, f"{marking.skill}: {exc}", messages.ERROR)
            else:
                self.message_user(request, _("%(skill)s signed off.") % {"skill": marking.skill})

    @admin.action(description=_("Reopen the selected skills (asks for a reason)"))
    def reopen_action(self, request, queryset):
        form = ReopenForm(request.POST if "reason" in request.POST else None)
        if form.is_bound and form.is_valid():
            for marking in queryset.select_related("skill"):
                try:
                    signoff.reopen(marking.skill, request.user, form.cleaned_data["reason"])
                except (MarkRefused, PermissionDenied) as exc:
                    self.message_user(request, f"{marking.skill}: {exc}", messages.ERROR)
                else:
                    self.message_user(request, _("%(skill)s reopened.") % {"skill": marking.skill})
            return HttpResponseRedirect(request.get_full_path())
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reopen marking"),
            "form": form,
            "markings": queryset.select_related("skill"),
            "action": "reopen_action",
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "scoring/admin/reopen.html", context)
