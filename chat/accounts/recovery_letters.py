"""The account recovery mails' words (chat/mail/letters.py renders them): verify an address,
reset a password, confirm a new address, the notice to the old one, and the notice to an
address asked for that already has an account. Links point into the
web client (`{base}/#/verify/<token>` …), which confirms them with a POST: a link scanner that
follows the link changes nothing."""

from __future__ import annotations

from chat.mail.letters import Action, Letter

IGNORE_EN = "If you did not ask for this, ignore this email: nothing changes."
IGNORE_ZH = "如果这不是您本人的操作，请忽略本邮件，账户不会有任何变化。"


def verify_letter(base: str, token: str, hours: int) -> Letter:
    return Letter(
        subject_en="Confirm your email address for EcoLink",
        subject_zh="确认您在 EcoLink 的电子邮箱地址",
        paragraphs_en=("Welcome to EcoLink. Confirm that this is your email address:",
                       f"The link works for {hours} hours.", IGNORE_EN),
        paragraphs_zh=("欢迎加入 EcoLink。请确认这是您的电子邮箱地址：",
                       f"链接在 {hours} 小时内有效。", IGNORE_ZH),
        action=Action(f"{base}/#/verify/{token}", "Confirm my address", "确认邮箱地址"),
    )


def reset_letter(base: str, token: str, minutes: int) -> Letter:
    return Letter(
        subject_en="Reset your EcoLink password",
        subject_zh="重置您的 EcoLink 密码",
        paragraphs_en=("Someone (we hope you) asked to reset the password of your EcoLink account."
                       " Choose a new password here:",
                       f"The link works once, for {minutes} minutes. Setting a new password signs"
                       " you out everywhere.", IGNORE_EN),
        paragraphs_zh=("有人（希望是您本人）请求重置您的 EcoLink 账户密码。请在这里设置新密码：",
                       f"链接只能使用一次，{minutes} 分钟内有效。设置新密码后，所有设备都会退出登录。",
                       IGNORE_ZH),
        action=Action(f"{base}/#/reset/{token}", "Choose a new password", "设置新密码"),
    )


def email_change_letter(base: str, token: str, hours: int) -> Letter:
    return Letter(
        subject_en="Confirm your new email address for EcoLink",
        subject_zh="确认您在 EcoLink 的新电子邮箱地址",
        paragraphs_en=("You asked to use this address for your EcoLink account. Confirm it here:",
                       f"The link works for {hours} hours. Until you confirm, your account keeps"
                       " its old address.", IGNORE_EN),
        paragraphs_zh=("您请求将此地址用于您的 EcoLink 账户。请在这里确认：",
                       f"链接在 {hours} 小时内有效。确认之前，账户仍使用原来的地址。", IGNORE_ZH),
        action=Action(f"{base}/#/email/{token}", "Use this address", "使用此地址"),
    )


def email_changed_letter(base: str) -> Letter:
    return Letter(
        subject_en="Your EcoLink email address was changed",
        subject_zh="您的 EcoLink 电子邮箱地址已更改",
        paragraphs_en=("The email address of your EcoLink account was just changed, and this"
                       " address no longer receives its mail.",
                       "If you did not do this, someone knows your password: reset it from the"
                       " sign-in page and contact the site's administrators."),
        paragraphs_zh=("您的 EcoLink 账户的电子邮箱地址刚刚被更改，此地址将不再收到账户邮件。",
                       "如果这不是您本人的操作，说明有人知道您的密码：请在登录页面重置密码，并联系网站管理员。"),
        action=Action(f"{base}/", "Open EcoLink", "打开 EcoLink"),
    )


def email_taken_letter(base: str) -> Letter:
    """To an address someone asked to move their account to, which has an account already:
    nothing changes (the asker was told only that a mail is on its way)."""
    return Letter(
        subject_en="This address already has an EcoLink account",
        subject_zh="此地址已注册 EcoLink 账户",
        paragraphs_en=("Someone asked to use this address for their EcoLink account, but an account"
                       " with this address exists already, so nothing was changed.",
                       "If this is your account and you forgot its password, you can reset it from"
                       " the sign-in page.", IGNORE_EN),
        paragraphs_zh=("有人请求将此地址用于其 EcoLink 账户，但此地址已有账户，因此没有任何更改。",
                       "如果这是您的账户且您忘记了密码，可以在登录页面重置密码。", IGNORE_ZH),
        action=Action(f"{base}/", "Open EcoLink", "打开 EcoLink"),
    )
