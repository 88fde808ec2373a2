"""The files benchmark's test file (bench/payload.py): a valid ZIP of the exact size asked for,
its digest right, and any byte range produced again the same (a resumed upload resends one)."""

import hashlib
import io
import zipfile

import pytest

from bench.payload import BLOCK, Payload


def whole(p: Payload) -> bytes:
    return b"".join(bytes(c) for c in p.chunks())


@pytest.mark.parametrize("size", [200, BLOCK - 7, 3 * BLOCK + 12345])
def test_a_zip_of_the_exact_size_that_python_reads_back(size):
    p = Payload(size, seed=3)
    digest = p.digest()
    data = whole(p)
    assert len(data) == size and data[:4] == b"PK\x03\x04"
    assert hashlib.sha256(data).hexdigest() == digest == p.sha256
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None  # the CRC matches
        (info,) = z.infolist()
        assert info.filename == "payload.bin" and info.compress_type == zipfile.ZIP_STORED
        assert info.file_size == p.data_len == size - p.head_len - p.tail_len


def test_any_range_is_the_same_bytes_again():
    p = Payload(2 * BLOCK + 999, seed=5)
    p.digest()
    data = whole(p)
    for start, end in [(0, 10), (5, p.head_len + 3), (BLOCK - 1, BLOCK + 1), (p.size - 30, p.size),
                       (p.head_len + p.data_len - 2, p.size - 1), (7, 7), (0, p.size)]:
        assert b"".join(bytes(c) for c in p.chunks(start, end)) == data[start:end]


def test_seeds_give_different_files_and_the_same_seed_the_same():
    a, b, c = Payload(BLOCK * 2, seed=1), Payload(BLOCK * 2, seed=2), Payload(BLOCK * 2, seed=1)
    assert a.digest() != b.digest() and a.digest() == c.digest()


def test_refusals():
    with pytest.raises(ValueError, match="at least"):
        Payload(50, seed=1)
    with pytest.raises(ValueError, match="ZIP64"):
        Payload(5 << 30, seed=1)
    p = Payload(1000, seed=1)
    with pytest.raises(RuntimeError, match="digest"):
        list(p.chunks())
    p.digest()
    with pytest.raises(ValueError, match="outside"):
        list(p.chunks(10, 1001))
