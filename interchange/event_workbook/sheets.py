"""The sheets of the event workbook, in import order (dependency order:
a sheet may refer to what an earlier one defines): delegations, skills,
entries, judges, aspects, marks, then the sheets of apps above this one.

Adding a sheet of an app above ``interchange``: write a resource (columns,
widgets, ``sheet_name``, ``titles_zh``), an importer ``def import_x(ctx:
ImportContext, sheet: ParsedSheet) -> None`` and an export queryset
function, then register them in the app's ``workbook_sheets`` module::

    from interchange.event_workbook.context import SheetDefinition
    from interchange.event_workbook.sheets import register_sheet

    register_sheet(SheetDefinition(RewardResource, import_rewards, rewards_queryset))
"""

from __future__ import annotations

from django.utils.module_loading import autodiscover_modules

from competitions.resources import SkillResource
from teams.models import Delegation, Entry, JudgeAssignment
from teams.resources import DelegationResource, EntryRowResource, JudgeAssignmentResource

from .aspects import aspects_queryset, import_aspects
from .context import SheetDefinition
from .delegations import import_delegations
from .entries import import_entries
from .judges import import_judges
from .marks import import_marks, marks_queryset
from .resources import AspectRowResource, MarkRowResource
from .skills import import_skills

SHEET_REGISTRY: list[SheetDefinition] = []


def register_sheet(definition: SheetDefinition) -> None:
    """Add a sheet after those registered so far (import runs in this order).
    Registering a name again replaces that sheet in place."""
    for i, existing in enumerate(SHEET_REGISTRY):
        if existing.name == definition.name:
            SHEET_REGISTRY[i] = definition
            return
    SHEET_REGISTRY.append(definition)


register_sheet(
    SheetDefinition(
        DelegationResource,
        import_delegations,
        # Delegations are global; an event's workbook carries those it uses.
        lambda event: Delegation.objects.filter(
            pk__in=set(
                Entry.objects.filter(skill__event=event).values_list("delegation", flat=True)
            )
            | set(
                JudgeAssignment.objects.filter(skill__event=event).values_list(
                    "judge__delegation", flat=True
                )
            )
        ).order_by("code"),
    )
)
register_sheet(
    SheetDefinition(SkillResource, import_skills, lambda event: event.skills.order_by("code"))
)
register_sheet(
    SheetDefinition(
        EntryRowResource,
        import_entries,
        lambda event: EntryRowResource().get_queryset().filter(entry__skill__event=event),
    )
)
register_sheet(
    SheetDefinition(
        JudgeAssignmentResource,
        import_judges,
        lambda event: JudgeAssignmentResource().get_queryset().filter(skill__event=event),
    )
)


# The scoring sheets, in dependency order: marks refer to aspects.
register_sheet(SheetDefinition(AspectRowResource, import_aspects, aspects_queryset))
register_sheet(SheetDefinition(MarkRowResource, import_marks, marks_queryset))

# Sheets of apps above this one (sector's ``rewards``) register themselves
# from their ``workbook_sheets`` module, after the six above: this app cannot
# import theirs (docs/architecture.md). Last in this module, so such a module
# can import everything it needs from here.
autodiscover_modules("workbook_sheets")
