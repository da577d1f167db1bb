"""Domain rules of interventions as plain functions (no GraphQL): status, access, schedule."""
