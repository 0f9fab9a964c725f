"""Domain events of the teams app, for the apps above it to subscribe to.

teams sits below scoring and awards and imports neither; when something
here matters to them, teams announces it and they react (their receivers are
connected in their AppConfig.ready()).
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent inside the transaction that saved an athlete whose name, ID number,
# gender, birth date or delegation changed, with:
#   athlete   the saved Athlete
#   changed   frozenset of the changed field names
#   previous  dict of those fields' values before the change
#   reason    the reason given ("" when none was needed)
#   actor     the user who made the change, or None
# Receivers that do slow work queue it with transaction.on_commit.
athlete_identity_changed = Signal()
