"""One error tree. Each error carries its client-facing code and its HTTP status.

The transport maps these to HTTP responses and WebSocket `error` frames in one place
(chat/transport/errors.py); services raise them and never build responses themselves.
Messages never contain passwords, tokens or message bodies.

Each error also says whether the same request may succeed if sent again (`retry`, after
centrifuge's Error{Code, Message, Temporary}): it travels on the wire in every `error` frame
and HTTP error body, so no client keeps its own list of retryable codes. Refusals (the
default) are final for that request as it is; only transient conditions set `retry = True`.
"""

from __future__ import annotations


class ChatError(Exception):
    """Base of every error a client may see."""

    code = "internal"
    status = 500
    # Set on errors that pass with time: the client may retry after this many seconds
    # (HTTP: the Retry-After header and `retry_after` in the error body).
    retry_after_s: float | None = None
    retry = False
    # Whether every `error` frame carries `details` (frames answering a rid always do): set
    # where the details say when the refusal ends (a mute's `until`).
    frame_details = False

    def __init__(self, message: str, *, details: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class BadRequest(ChatError):
    code = "bad_request"
    status = 400


class InvalidInput(ChatError):
    """The request parsed but a field is wrong; `details` lists the fields."""

    code = "invalid"
    status = 422


class InvalidSearch(InvalidInput):
    """A search's query or one of its parameters is wrong (chat/search): `details` maps the
    parameter (q, limit, cursor …) to why. A 400, as every bad query-string value is."""

    code = "bad_request"
    status = 400


class Unauthorized(ChatError):
    code = "unauthorized"
    status = 401


class Forbidden(ChatError):
    code = "forbidden"
    status = 403


class GuestScope(Forbidden):
    """A webinar's guest asked for something outside their webinar (docs/protocol.md,
    "Guests (webinars)")."""

    code = "guest_scope"


class NotAddable(Forbidden):
    """Someone may not be brought into (or open) a direct conversation: they left it for good,
    or a block stands between them and a member. One code and message for every reason, so
    the answer does not tell a blocked member that they are blocked."""

    code = "not_addable"

    def __init__(self) -> None:
        super().__init__("this member cannot be added to this conversation")


class Muted(Forbidden):
    """A moderator muted this member in this room: they may not post there until `until`
    (details: {"until": ISO time}; docs/operations.md, "Moderator's guide")."""

    code = "muted"
    frame_details = True

    def __init__(self, until: str | None) -> None:
        super().__init__("a moderator muted you in this room", details={"until": until})


class AccountSuspended(Forbidden):
    """The account is suspended until a time, or banned (details: {"until": ISO time or null,
    "banned": bool}); it cannot sign in."""

    code = "account_suspended"

    def __init__(self, until: str | None, banned: bool) -> None:
        super().__init__("this account is banned" if banned else "this account is suspended",
                         details={"until": until, "banned": banned})


class SecondFactorRequired(Unauthorized):
    """The password was right, and the account signs in with a second factor: send the same
    request again with `code` (a TOTP code or a recovery code; docs/protocol.md,
    "Two-factor sign-in")."""

    code = "second_factor_required"


class TwoFactorSetupRequired(Forbidden):
    """A staff action by an admin or moderator without two-factor sign-in, while the operator
    requires it (ECOLINK_ADMIN_TWO_FACTOR=required): set it up first."""

    code = "two_factor_setup_required"


class EmailUnverified(Forbidden):
    """The node requires a verified address to post (ECOLINK_EMAIL_VERIFICATION=required) and
    the member's is not verified yet."""

    code = "email_unverified"

    def __init__(self) -> None:
        super().__init__("verify your email address first (the link is in your mailbox)")


class NotFound(ChatError):
    code = "not_found"
    status = 404


class PollSessionGone(NotFound):
    """A long-polling session this node does not hold (never opened here, expired, closed, or
    opened with another token): open a new one and resume every room with `since`."""

    code = "poll_session_gone"

    def __init__(self) -> None:
        super().__init__("no such polling session on this node: open a new one and resume with since")


class InvalidToken(BadRequest):
    """A mailed link's token that is unknown, used, expired or replaced by a newer one: one
    answer for all, which says nothing about whose it was."""

    code = "invalid_token"

    def __init__(self) -> None:
        super().__init__("this link is not valid: it was used, it expired, or a newer one was sent")


class Conflict(ChatError):
    code = "conflict"
    status = 409


class EmailTaken(Conflict):
    code = "email_taken"


class AlreadyVerified(Conflict):
    code = "already_verified"

    def __init__(self) -> None:
        super().__init__("your email address is verified already")


class PayloadTooLarge(ChatError):
    code = "too_large"
    status = 413


class RateLimited(ChatError):
    code = "rate_limited"
    status = 429
    retry = True

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Busy(ChatError):
    """The node is at capacity for this kind of work (e.g. password hashing); retry soon."""

    code = "busy"
    status = 503
    retry = True

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Unavailable(ChatError):
    """The store could not be reached; the client should retry (sends are idempotent)."""

    code = "unavailable"
    status = 503
    retry = True


class Internal(ChatError):
    """A bug or an unexpected failure; nothing about it reaches the client. Worth a retry
    (sends are idempotent by cid)."""

    code = "internal"
    status = 500
    retry = True


class FrameError(BadRequest):
    """A WebSocket frame (or handshake) refused as it is: `code` names why (docs/protocol.md,
    "Error codes"), `cid` the send it concerns when the frame had a usable one, `rid` the
    request (a search)."""

    def __init__(self, code: str, message: str, cid: str | None = None, *, rid: str | None = None,
                 details: object | None = None) -> None:
        super().__init__(message, details=details)
        self.code = code
        self.cid = cid
        self.rid = rid  # the request (a search) it answers, when the frame had a usable rid


class Draining(Unavailable):
    """This node is shutting down: connect to another."""

    code = "draining"


class TooManyConnections(RateLimited):
    """The member already holds the most WebSockets a node allows; one closing lets the next in."""

    code = "too_many_connections"


class ChatClosed(Forbidden):
    """A webinar's audience chat takes nothing now: the hosts turned it off, or the webinar
    ended or was cancelled (its chat is then read-only)."""

    code = "chat_closed"


class SlowMode(RateLimited):
    """A webinar's chat is in slow mode: one message per so many seconds per attendee."""

    code = "slow_mode"


class QuestionTooSoon(RateLimited):
    """A webinar attendee asks at most one question per so many seconds."""

    code = "question_too_soon"


class TooManyOpenQuestions(ChatError):
    """A webinar attendee has as many open questions as one may (pending, open or answering):
    one must be answered, dismissed or withdrawn before the next."""

    code = "too_many_open_questions"
    status = 429


class ExportBusy(RateLimited):
    """This node runs as many exports as it may at once, or the member already has one
    running (docs/protocol.md, "Exports"): retry when it is done."""

    code = "export_busy"


class ExportTooLarge(PayloadTooLarge):
    """An export would be too long to be sensible in its format (a PDF past
    ECOLINK_EXPORT_PDF_MAX_PAGES pages): ask for a narrower range or another format."""

    code = "export_too_large"


class QuotaExceeded(PayloadTooLarge):
    """The upload would take the member past their storage quota (ECOLINK_UPLOAD_QUOTA_MB):
    delete files or ask an operator (docs/protocol.md, "Files")."""

    code = "quota_exceeded"


class UnsupportedType(ChatError):
    """A file's bytes are not of an allowed type, or not of the type its name or the client
    claimed (docs/protocol.md, "Files")."""

    code = "unsupported_type"
    status = 415


class UploadOffsetMismatch(Conflict):
    """A chunk was sent for another offset than the upload's: ask the upload for its offset
    (HEAD) and send from there."""

    code = "offset_mismatch"


class ProofRequired(BadRequest):
    """A registration without a solved challenge, or with one expired or already used: fetch a
    new challenge and solve it (docs/protocol.md, "Registration challenge")."""

    code = "proof_required"


class ProofInvalid(BadRequest):
    """A registration challenge not signed by the server, or a nonce that does not solve it."""

    code = "proof_invalid"


class LinksNotAllowedYet(Forbidden):
    """A new account's text links to another site (docs/operations.md, "Limits for new
    accounts")."""

    code = "links_not_allowed_yet"


class Spam(Forbidden):
    """The same text went to too many rooms lately."""

    code = "spam"
