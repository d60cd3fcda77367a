"""API keys: admins list, issue and revoke their tenant's keys."""
