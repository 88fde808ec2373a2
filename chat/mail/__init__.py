"""Email: letters in both languages (letters.py), the durable outbox every part sends through
(service.py, `node.mail`), the sender that drains it over SMTP on every node (sender.py), and
signed one-click unsubscribe links (unsubscribe.py). docs/operations.md, "Email (SMTP)"."""
