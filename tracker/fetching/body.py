"""Reading a body within its limits, and turning it into text."""

from __future__ import annotations

import codecs
import re
from typing import TYPE_CHECKING

import requests
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError

from .results import FetchError

if TYPE_CHECKING:
    from .gate import _Deadline

# --- Decoding ------------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]+)""", re.IGNORECASE
)
_SINGLE_BYTE = {"ascii", "latin-1", "iso8859-1", "cp1252", "us-ascii", "windows-1252"}


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None


def _charset_from_header(content_type: str) -> str | None:
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip("\"'")
    return None


def decode_body(body: bytes | bytearray, *, content_type: str = "") -> tuple[str, str]:
    """Text of a body and the encoding used: BOM, then HTTP header, then `<meta>`, then detection.

    A declared single-byte charset on a body that is valid UTF-8 with non-ASCII bytes is
    taken as UTF-8: shops mislabel, and real Latin-1 text is almost never valid UTF-8.
    """
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(name, errors="replace"), name
    declared = [_codec(_charset_from_header(content_type))]
    match = _META_CHARSET.search(body[:4096])
    declared.append(_codec(match.group(1).decode("ascii", "ignore")) if match else None)
    for encoding in declared:
        if not encoding:
            continue
        if encoding in {_codec(n) for n in _SINGLE_BYTE} and not body.isascii():
            try:
                return body.decode("utf-8"), "utf-8"
            except UnicodeDecodeError:
                pass
        try:
            return body.decode(encoding), encoding
        except UnicodeDecodeError:
            continue  # a wrong declaration: try the next source
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = from_bytes(body[:200_000])
    best = matches.best()
    encoding = _codec(best.encoding if best else None) or "utf-8"
    if best is not None and encoding != "cp1252":
        # Single-byte code pages are hard to tell apart; windows-1252 is by far the most used
        # on the web, so it wins a near tie.
        for match in matches:
            if match.encoding == "cp1252" and match.chaos <= best.chaos + 0.01:
                encoding = "cp1252"
                break
    return body.decode(encoding, errors="replace"), encoding


# --- Reading -------------------------------------------------------------------------------


def read_body(response: requests.Response, *, limit: int, deadline: _Deadline) -> bytearray:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and not response.headers.get("Content-Encoding") and int(declared) > limit:
        raise FetchError("the page is larger than the size limit", kind="too_large")
    raw = response.raw
    body = bytearray()
    try:
        while True:
            # read1 returns what one socket read gives (a slow drip cannot stall the
            # deadline check) and decompresses at most 64 KiB at a time (no bomb in memory).
            chunk = raw.read1(65536, decode_content=True)
            if deadline.expired:
                break
            if not chunk:
                break
            body.extend(chunk)
            if len(body) > limit:
                raise FetchError("the page is larger than the size limit (after decompression)", kind="too_large")
    except DecodeError as exc:
        raise FetchError("the page's compression is broken", kind="decode") from exc
    except (ProtocolError, ReadTimeoutError, OSError, requests.RequestException) as exc:
        if deadline.expired:
            raise FetchError("the download took longer than the deadline", kind="timeout", transient=True) from exc
        if isinstance(exc, ReadTimeoutError | TimeoutError):
            raise FetchError("the shop stopped sending", kind="timeout", transient=True) from exc
        raise FetchError(f"the connection broke: {exc.__class__.__name__}", transient=True) from exc
    if deadline.expired:
        raise FetchError("the download took longer than the deadline", kind="timeout", transient=True)
    return body
