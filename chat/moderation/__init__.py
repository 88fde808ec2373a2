"""Moderation: members' reports, the moderators' queue and actions, the sanctions sends and
logins are checked against (docs/operations.md, "Moderator's guide")."""
