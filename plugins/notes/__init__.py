"""Notes and tasks (SPEC N1 to N8).

The plugin owns notes — free text on a customer, a branch, any subject type another
plugin registers (``register_subject_types``), or nothing — and tasks, which are notes
assigned to a user with an optional due date and a completion. It also owns ``@mentions``
(resolved on save, stored with their character ranges), organisation categories, the
"bell" that follows a customer's notes, and visibility (organisation, one team, managers).

It adds ``notes`` / ``noteCount`` to every subject type, ``isFollowed`` / ``followers`` to
``Customer`` and ``tasks`` / ``followedCustomers`` to ``Viewer``; contributes NOTE and TASK
entries to the customer timeline; answers ``create_task``, ``customer_notes`` (what a viewer
may read, for insights) and ``customer_followers`` (the bell, for other plugins' alerts)
for other plugins, and keeps its rows in step through ``merge_customers``,
``customer_deleted`` and ``subjects_deleted`` (an activity's notes go with it). Notifications
(MENTION, FOLLOWED_CUSTOMER_NOTE, TASK_ASSIGNED, TASK_REASSIGNED, TASK_COMPLETED) go
through the gateway's notification core, so they are stored with the write and delivered
live after it commits. It never imports another plugin.
"""
