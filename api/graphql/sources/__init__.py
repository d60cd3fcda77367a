"""GraphQL: configuring the lead and order sources (admins only)."""
