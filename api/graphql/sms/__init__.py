"""GraphQL of the `sms` channel: the tenant's provider settings (admins only)."""
