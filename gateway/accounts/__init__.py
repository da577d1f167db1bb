"""Identity (G5): organisations, users with their ``@handle``, teams and roles, and the
``viewer`` query. Built into the gateway; registered with the plugin manager like a plugin."""
