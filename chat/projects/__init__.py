"""Eco-city projects (docs/protocol.md, "Projects")."""
