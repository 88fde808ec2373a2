"""chat.errors: whether to retry is a property of the error's class, and it reaches the wire the
same way in an `error` frame and in an HTTP error body."""

from __future__ import annotations

import pytest

from chat.errors import (
    BadRequest, ChatError, Conflict, Draining, EmailTaken, Forbidden, FrameError, Internal,
    InvalidInput, NotAddable, NotFound, PayloadTooLarge, RateLimited, TooManyConnections,
    Unauthorized, Unavailable,
)
from chat.protocol.frames import error_frame, parse
from chat.transport.errors import error_json

TRANSIENT = [RateLimited("m", retry_after_s=1), TooManyConnections("m", retry_after_s=1),
             Unavailable("m"), Draining("m"), Internal("m")]
REFUSALS = [BadRequest("m"), InvalidInput("m"), Unauthorized("m"), Forbidden("m"), NotAddable(),
            NotFound("m"), Conflict("m"), EmailTaken("m"), PayloadTooLarge("m"),
            FrameError("not_joined", "m")]


@pytest.mark.parametrize("error", TRANSIENT, ids=lambda e: e.code)
def test_transient_errors_say_retry(error: ChatError):
    assert error.retry is True
    assert error_frame(error)["retry"] is True
    assert error_json(error)["error"]["retry"] is True


@pytest.mark.parametrize("error", REFUSALS, ids=lambda e: e.code)
def test_refusals_say_do_not_retry(error: ChatError):
    assert error.retry is False
    assert error_frame(error, "c1") == {"type": "error", "code": error.code,
                                        "message": error.message, "retry": False, "cid": "c1"}
    assert error_json(error)["error"]["retry"] is False


def test_a_subclass_inherits_its_parents_answer():
    class LoginThrottled(RateLimited):
        code = "login_throttled"

    class WeakPassword(InvalidInput):
        code = "weak_password"

    assert LoginThrottled("m", retry_after_s=1).retry is True
    assert WeakPassword("m").retry is False


@pytest.mark.parametrize("doc", [[], {"type": 1}, {"type": "nope"}, {"type": "join", "room": "A"},
                                 {"type": "send", "room": "a", "body": "x" * 11, "cid": "c"}])
def test_every_refused_frame_is_a_chat_error_that_is_not_retried(doc: object):
    with pytest.raises(ChatError) as caught:
        parse(doc, max_body_chars=10)
    assert isinstance(caught.value, FrameError)
    assert error_frame(caught.value)["retry"] is False
