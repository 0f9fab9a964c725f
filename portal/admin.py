"""The admin is the organisers' console: only organisers get in."""

import rules
from django.contrib import admin
from django.contrib.admin.filters import FieldListFilter, RelatedFieldListFilter
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.utils.translation import gettext_lazy as _


def is_organiser(user) -> bool:
    """The ``teams.organiser`` permission (teams/permissions.py, docs/roles.md)."""
    return rules.has_perm("teams.organiser", user)


def choice_label(obj) -> str:
    """How a drop-down names ``obj``: its model's ``choice_label()`` when it
    has one (a skill with its event, a person with their delegation)."""
    label = getattr(obj, "choice_label", None)
    return label() if callable(label) else str(obj)


def label_choices(field):
    """Give a model choice field the labels above, and load what they need."""
    if field is None or not hasattr(field, "queryset"):
        return field
    model = field.queryset.model
    related = getattr(model, "CHOICE_RELATED", ())
    if related:
        field.queryset = field.queryset.select_related(*related)
        field.label_from_instance = choice_label
    return field


class LabelledAutocompleteJsonView(AutocompleteJsonView):
    def get_queryset(self):
        qs = super().get_queryset()
        related = getattr(qs.model, "CHOICE_RELATED", ())
        return qs.select_related(*related) if related else qs

    def serialize_result(self, obj, to_field_name):
        return {"id": str(getattr(obj, to_field_name)), "text": choice_label(obj)}


class LabelledRelatedFilter(RelatedFieldListFilter):
    """The sidebar filter by a related object, with the same labels."""

    def field_choices(self, field, request, model_admin):
        model = field.related_model
        qs = model._default_manager.select_related(*model.CHOICE_RELATED)
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            qs = qs.order_by(*ordering)
        return [(obj.pk, choice_label(obj)) for obj in qs]


FieldListFilter.register(
    lambda f: bool(f.remote_field) and hasattr(f.related_model, "CHOICE_RELATED"),
    LabelledRelatedFilter,
    take_priority=True,
)


class LabelledChoices:
    """Mixin for model admins and inlines: drop-downs use ``choice_label``."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return label_choices(super().formfield_for_foreignkey(db_field, request, **kwargs))

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return label_choices(super().formfield_for_manytomany(db_field, request, **kwargs))


class OrganiserAdminSite(admin.AdminSite):
    site_header = _("Skills Competition Portal · Organisers")
    site_title = _("Skills Competition Portal")
    index_title = _("Programme configuration")

    def has_permission(self, request) -> bool:
        return is_organiser(request.user)

    def autocomplete_view(self, request):
        return LabelledAutocompleteJsonView.as_view(admin_site=self)(request)


class OrganiserModelAdmin(LabelledChoices, admin.ModelAdmin):
    """Base for the portal's own models: organisers may do everything here;
    the rules that limit them live in the services the admin calls."""

    list_per_page = 50

    def has_view_permission(self, request, obj=None) -> bool:
        return is_organiser(request.user)

    has_module_permission = has_view_permission

    def has_add_permission(self, request, obj=None) -> bool:
        return is_organiser(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return is_organiser(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return is_organiser(request.user)


class OrganiserInline(LabelledChoices):
    """Mixin for inlines with the same rule."""

    def has_view_permission(self, request, obj=None) -> bool:
        return is_organiser(request.user)

    def has_add_permission(self, request, obj=None) -> bool:
        return is_organiser(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return is_organiser(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return is_organiser(request.user)
