"""The audit log (issue 12, then issue 15's moderation): a service over one generic table that
records acts admins must be able to account for (who, what, when, with what facts) and lets
admins read them back. Cross-cutting, so a package of its own: exports record into it (chat/
export), moderation will too; chat/transport/archive.py serves it, `ecolink audit` prints it.
"""
