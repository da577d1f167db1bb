"""Domain rules of activities as plain functions (no GraphQL in here).

Pure rules (distance, time window, quick time entry, report validation, sanitising,
permissions) are synchronous and unit-tested directly; the few that need the database
(built-in types) take a tenant-scoped session.
"""
