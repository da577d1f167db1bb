"""How many items each list of the plugin returned whole (not as a connection) may hold.

The query cost counts these sizes (``fiche.cost.list_size``); the mutations that add to
the lists refuse to go past them (LIMIT_EXCEEDED), so the declared sizes are true.
"""

from __future__ import annotations

from fiche.plugins.activities.services.forms import MAX_FIELDS

__all__ = [
    "MAX_ACTIVITY_TYPES",
    "MAX_ATTACHMENTS_PER_ACTIVITY",
    "MAX_FIELDS",
    "MAX_FORMS_PER_TYPE",
    "MAX_REPORTS_PER_ACTIVITY",
    "MAX_REPORT_FORMS",
]

MAX_ACTIVITY_TYPES = 100  # the seven built-in ones included, archived ones too
MAX_FORMS_PER_TYPE = 20
MAX_REPORT_FORMS = 200  # archived ones included
MAX_REPORTS_PER_ACTIVITY = 20
MAX_ATTACHMENTS_PER_ACTIVITY = 20
