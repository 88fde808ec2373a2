"""History and accounts: the Store port and its SQLite and PostgreSQL backends."""
