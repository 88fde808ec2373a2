"""Email: letters in both languages (letters.py), the durable outbox every part sends through
(service.py, `node.mail`), the sender that drains it over SMTP on every node (sender.py), and
signed one-click unsubscribe links (unsubscribe.py). docs/operations.md, "Email (SMTP)".

Sending a mail from a service::

    letter = Letter(subject_en=..., subject_zh=..., paragraphs_en=(...,), paragraphs_zh=(...,),
                    action=Action(f"{node.mail.public_base}/#/reset/{token}", "Choose a password", "设置密码"))
    if await mail.wants(user_id, "mention"):  # notification kinds only
        rendered = render(letter, await mail.mail_language(user_id))  # None: both languages
        await mail.enqueue(Mail(to=email, kind="mention", rendered=rendered, user_id=user_id,
                                dedupe_key=f"mention:{user_id}:{batch}", unsubscribe=True))

Tests read what was sent from a real SMTP server: the `mailbox` fixture (tests/support/mailbox.py),
`make_settings(**mailbox.settings)`, `await mailbox.wait_for(to=..., subject=...)`."""
