"""A seeded generator of hostile client frames, as the bytes or text a WebSocket delivers
(issue 16, case 9): malformed documents, deep nesting, huge declared sizes, invalid UTF-8,
wrong types, absurd ids and lengths, for both subprotocols. A plain `random.Random`, not
hypothesis: 100,000 frames must cost seconds, and a failure names its seed and index, which
regenerate the same frame.

Most frames are near misses of real ones (a known type with some fields right and one wrong),
so that they get past the first check and exercise the later ones; the rest are noise.
"""

from __future__ import annotations

import json
import math
import random
import struct
from collections.abc import Iterator
from typing import Any

import msgpack

ROOMS = ("green-buildings", "zhuhai", "nope", "a" * 64, "a" * 65, "", "Green", "x/y", "-")
TYPES = ("send", "edit", "delete", "react", "join", "leave", "ping", "typing", "read", "search",
         "report", "pong", "", "SEND", "send\x00", "unknown", "__proto__", "constructor")
FIELDS = ("type", "room", "body", "cid", "id", "emoji", "add", "since", "seq", "mentions",
          "attachments", "rid", "q", "rooms", "kinds", "authors", "since_ms", "until_ms", "lang",
          "has_files", "order", "cursor", "limit", "reason", "note", "member")
ABSURD_INTS = (0, 1, -1, 2**31, 2**32, 2**53 + 1, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1,
               2**64 - 1, 10**30, 10**300)
FLOATS = (0.5, -0.0, 1e308, -1e308, math.inf, -math.inf, math.nan, 1.0, 5e-324)
NASTY_TEXT = ("\x00", "a\x00b", "\u202e", "\u2066x\u2069", "\u2028", "\x1b[31m", "\ufeff",
              "\U0001f600" * 20, "e\u0301" * 50, "\u0000" * 3, "<script>", "' OR 1=1 --",
              "%s%n%x", "${jndi:x}", "\\u0000", "null", "true", "[]", "{}")
CODE_POINTS = range(0x20, 0x3000)
# JSON only: msgpack strings are UTF-8, which has no form for an unpaired surrogate.
SURROGATES = ("\ud800", "a\udfffb", "\udbff\udc00\ud800")

# msgpack headers that declare far more than follows: str32, bin32, array32, map32, ext32.
HUGE_DECLARED = (b"\xdb\xff\xff\xff\xff", b"\xc6\xff\xff\xff\xff", b"\xdd\xff\xff\xff\xff",
                 b"\xdf\xff\xff\xff\xff", b"\xc9\xff\xff\xff\xff\x01", b"\xda\xff\xff",
                 b"\xdc\xff\xff", b"\xde\xff\xff")
# The fields each frame type reads (chat/protocol/frames.py).
RELEVANT = {
    "send": ("room", "body", "cid", "mentions", "attachments"), "edit": ("room", "id", "body", "cid"),
    "delete": ("room", "id", "cid"), "react": ("room", "id", "emoji", "add", "cid"),
    "join": ("room", "since"), "leave": ("room",), "ping": ("type",), "typing": ("room",),
    "read": ("room", "seq"),
    "search": ("rid", "q", "rooms", "kinds", "authors", "since_ms", "until_ms", "lang", "has_files",
               "order", "cursor", "limit"),
    "report": ("rid", "reason", "note", "room", "id", "member"),
}


class FrameFuzzer:
    """Frames for one subprotocol: `binary` True gives msgpack bytes, False JSON text (and,
    now and then, bytes: a binary frame on the JSON subprotocol)."""

    def __init__(self, seed: int, *, binary: bool) -> None:
        self.rng = random.Random(seed)
        self.binary = binary
        self.kinds: dict[str, int] = {}

    def frames(self, count: int) -> Iterator[str | bytes]:
        for _ in range(count):
            yield self.frame()

    def frame(self) -> str | bytes:
        rng = self.rng
        roll = rng.random()
        if roll < 0.55:
            return self._encoded(self.near_miss(), "near_miss")
        if roll < 0.70:
            return self._encoded(self.noise_doc(), "wrong_shape")
        if roll < 0.80:
            return self._note("mutated", self._mutate(self._encoded(self.near_miss(), None)))
        if roll < 0.88:
            return self._note("nested", self._nested())
        if roll < 0.94:
            return self._note("raw", self._raw())
        return self._note("declared", self._declared() if self.binary else self._big_json())

    # -- documents ---------------------------------------------------------------------

    def near_miss(self) -> dict[str, Any]:
        """A frame of a real type with plausible fields, one to three of them replaced by a
        hostile value (or dropped)."""
        rng = self.rng
        kind = rng.choice(TYPES[:11])
        # A room the member may join (a quarter: joins, sends and their answers cost store work)
        # or one they may not (refused after a lookup).
        # (`since`: a full replay now and then, else one past the head, which replays nothing.)
        room = ROOMS[0] if rng.random() < 0.25 else ROOMS[1]
        doc: dict[str, Any] = {"type": kind, "room": room, "cid": f"c{rng.randrange(10**6)}",
                               "body": "hello", "id": "AAAAAAAAAAAAAAAAAAAAAA", "emoji": "\U0001f44d",
                               "since": rng.choice((0, 10**6)), "seq": rng.randrange(100), "rid": "r1",
                               "q": "words", "reason": "spam", "note": "", "mentions": []}
        relevant = RELEVANT.get(kind, FIELDS)
        for _ in range(rng.randint(1, 3)):
            # Mostly a field the type reads: one in ten near misses stays a valid frame, which
            # the node then dispatches (and answers as it would a member's).
            field = rng.choice(relevant) if rng.random() < 0.9 else rng.choice(FIELDS)
            if rng.random() < 0.15:
                doc.pop(field, None)
            else:
                doc[field] = self.value(0)
        return doc

    def noise_doc(self) -> Any:
        rng = self.rng
        if rng.random() < 0.3:
            return self.value(0)
        return {rng.choice(FIELDS + ("", "\x00", "x" * 300)): self.value(0) for _ in range(rng.randint(0, 8))}

    def value(self, depth: int) -> Any:
        rng = self.rng
        roll = rng.randrange(14 if depth < 4 else 11)
        if roll == 0:
            value = rng.choice(ABSURD_INTS) * rng.choice((1, -1))
            return value if not self.binary or -(2**63) <= value < 2**64 else 2**64 - 1  # msgpack's range
        if roll == 1:
            return rng.choice(FLOATS)
        if roll == 2:
            return rng.choice((True, False, None))
        if roll == 3:
            return rng.choice(ROOMS)
        if roll == 4:
            return rng.choice(NASTY_TEXT) * rng.choice((1, 2, 100))
        if roll == 5:
            return rng.choice(SURROGATES) if not self.binary else rng.choice(NASTY_TEXT)
        if roll == 6:  # around the limits: 64 (ids), 1,000 (search strings), 10,000 (bodies)
            return rng.choice("ab \n\u3000\u4e2d[!*_") * rng.choice((63, 64, 65, 1000, 1001, 10_000, 10_001, 65_536))
        if roll == 7:
            return "".join(map(chr, rng.choices(CODE_POINTS, k=rng.randrange(1, 40))))
        if roll == 8:
            return rng.choice(TYPES)
        if roll == 9:
            return rng.randrange(-(2**63), 2**64) if self.binary else rng.randrange(-(2**70), 2**70)
        if roll == 10:
            return [rng.randrange(1, 10**6)] * rng.choice((0, 1, 50, 51, 1000))
        if roll == 11:
            return [self.value(depth + 1) for _ in range(rng.randint(0, 4))]
        if roll == 12:
            return {rng.choice(FIELDS): self.value(depth + 1) for _ in range(rng.randint(0, 4))}
        return rng.randbytes(rng.randrange(1, 20)) if self.binary else "\u0000\u0001"

    # -- encodings -----------------------------------------------------------------------

    def _note(self, kind: str, data: str | bytes) -> str | bytes:
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        return data

    def _encoded(self, doc: Any, kind: str | None) -> str | bytes:
        if self.binary:
            data: str | bytes = msgpack.packb(doc, use_bin_type=True)
        else:
            # allow_nan: NaN and Infinity are not JSON, but Python's parser takes them.
            data = json.dumps(doc, ensure_ascii=self.rng.random() < 0.5, allow_nan=True)
            if self.rng.random() < 0.02:
                # A binary frame, or a text frame whose bytes are not UTF-8 (which the server's
                # WebSocket layer refuses before the app; in process it arrives as bytes).
                data = data.encode("utf-8", "surrogatepass") + b"\xff\xfe\xc0\x80"
        return data if kind is None else self._note(kind, data)

    def _mutate(self, data: str | bytes) -> str | bytes:
        rng = self.rng
        raw = bytearray(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
        for _ in range(rng.randint(1, 4)):
            if not raw:
                break
            at = rng.randrange(len(raw))
            op = rng.randrange(4)
            if op == 0:
                raw[at] = rng.randrange(256)
            elif op == 1:
                del raw[at:]
            elif op == 2:
                raw[at:at] = rng.randbytes(rng.randint(1, 8))
            else:
                raw[at:at] = rng.choice(HUGE_DECLARED) if self.binary else rng.choice((b"[", b"{", b'"', b"\\"))
        if self.binary:
            return bytes(raw)
        return bytes(raw).decode("utf-8", "replace")  # what a text frame can carry

    def _nested(self) -> str | bytes:
        rng = self.rng
        depth = rng.choice((100, 1000, 5000, 20_000))  # past every parser's recursion limit
        if self.binary:
            packed = rng.choice((b"\x91", b"\x81\xa1a", b"\x81\xa4type"))
            return packed * depth + b"\xc0"
        opener, closer = rng.choice((("[", "]"), ('{"a":', "}"), ('{"type":', "}")))
        closed = rng.random() < 0.5
        return opener * depth + "1" + (closer * depth if closed else "")

    def _raw(self) -> str | bytes:
        rng = self.rng
        blob = rng.randbytes(rng.randrange(0, 200))
        if self.binary:
            return blob
        return rng.choice(("", " ", "null", "[]", "0", '"type"', "{", "}", "\ufeff{}", "{'type':'ping'}",
                           blob.decode("utf-8", "replace"), '{"type":"ping"}' * 3, '{"type":"ping",}',
                           '{"type":"ping"}\x00', "NaN", "-Infinity"))

    def _declared(self) -> bytes:
        rng = self.rng
        header = rng.choice(HUGE_DECLARED)
        tail = rng.randbytes(rng.randrange(0, 30))
        if rng.random() < 0.3:  # inside a frame-shaped map
            return b"\x82\xa4type\xa4send\xa4body" + header + tail
        if rng.random() < 0.2:  # an ext type (code 1) and a timestamp (code -1) where a value goes
            return b"\x81\xa4type" + rng.choice((b"\xd4\x01\x00", b"\xd6\xff\x00\x00\x00\x01", b"\xc7\x00\x05"))
        if rng.random() < 0.2:  # a non-string key, a float32, a str8 of invalid UTF-8
            return rng.choice((b"\x81\x01\xa4ping", b"\x81\xca" + struct.pack(">f", 1.5) + b"\xc0",
                               b"\x81\xa4type\xd9\x04\xff\xfe\xfd\xfc"))
        return header + tail

    def _big_json(self) -> str:
        rng = self.rng
        digits = rng.choice((4300, 4301, 10_000, 100_000))
        return rng.choice((
            '{"type":"read","room":"zhuhai","seq":' + "9" * digits + "}",
            '{"type":"join","room":"zhuhai","since":1e' + "9" * 6 + "}",
            '{"type":"send","room":"zhuhai","cid":"a","mentions":[' + ",".join(["1"] * 5000) + "]}",
            '{"type":"send","room":"zhuhai","cid":"a","body":"' + "\\ud800" * 1000 + '"}',
            '{"type":"search","rid":"r","q":"' + "a\\\\" * 20_000 + '"}',
            '{"type":"' + "x" * 60_000 + '"}',
        ))
