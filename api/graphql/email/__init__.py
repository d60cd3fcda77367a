"""The tenant's e-mail (SMTP) settings: the public view, setting and clearing (admins only)."""
