from __future__ import annotations

from django.contrib import admin

from portal.admin import OrganiserModelAdmin

from .models import Reward


@admin.register(Reward)
class RewardAdmin(OrganiserModelAdmin):
    list_display = ["programme", "outcome", "bonus_yuan", "credits", "note"]
    list_filter = ["programme"]
