"""A page of the feed's listing, checked: every name the feed gives becomes a path on our disk.

A page is read only up to its size limit (MAX_LISTING_BYTES_ENV): a feed that sends a
listing of hundreds of megabytes is refused once it passes the limit, not held in memory.
"""

import http.client
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from ingestion.contract import kind_of
from ingestion.http_pull.client import Client, declared_size
from ingestion.http_pull.config import MAX_LISTING_BYTES_ENV
from ingestion.http_pull.errors import Failure
from ingestion.landing import URN

# A single, harmless path segment: no separators, cannot be "." or "..", not hidden.
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 16


@dataclass(frozen=True)
class FeedFile:
    name: str
    sha256: str
    url: str


@dataclass(frozen=True)
class FeedExtract:
    urn: str
    stamp: str
    files: tuple[FeedFile, ...]


@dataclass(frozen=True)
class Page:
    extracts: tuple[FeedExtract, ...]
    next_cursor: str | None
    has_more: bool


def listing_url(base_url: str, cursor: str | None, page_size: int) -> str:
    query = {"limit": str(page_size)} | ({"cursor": cursor} if cursor else {})
    return f"{base_url}/v1/extracts?{urlencode(query)}"


def get_page(client: Client, cursor: str | None, page_size: int, max_bytes: int) -> Page:
    url = listing_url(client.base_url, cursor, page_size)

    def handle(response: http.client.HTTPResponse) -> Page:
        data = read_listing(response, max_bytes, page_size)
        try:
            body = json.loads(data)
        except ValueError as error:
            # A cut-off answer reads as broken JSON: worth another try.
            raise Failure(f"the feed's listing is not JSON ({error})", retryable=True) from None
        return parse_page(client, body)

    return client.get(url, handle)


def read_listing(response: http.client.HTTPResponse, max_bytes: int, page_size: int) -> bytes:
    """The page's bytes, read no further than `max_bytes` (a bigger page is refused)."""

    def too_large() -> Failure:
        # Not retried: the feed would send the same page again.
        return Failure(
            f"the feed's listing page is larger than {max_bytes} bytes "
            f"({MAX_LISTING_BYTES_ENV}); it was not read further. A page of {page_size} "
            "extracts is far smaller: the feed is misbehaving (or, if its entries really are "
            "that large, raise the limit)"
        )

    declared = declared_size(response)
    if declared is not None and declared > max_bytes:
        raise too_large()
    data = bytearray()
    while chunk := response.read(min(_CHUNK, max_bytes + 1 - len(data))):
        data += chunk
        if len(data) > max_bytes:
            raise too_large()
    return bytes(data)


def parse_page(client: Client, body: Any) -> Page:
    """The listing, checked: every name the feed gives becomes a path on our disk."""

    def bad(what: str) -> Failure:
        return Failure(f"the feed's listing is not as documented: {what}")

    if not isinstance(body, dict) or not isinstance(body.get("extracts"), list):
        raise bad("no 'extracts' list")
    next_cursor = body.get("next_cursor")
    if next_cursor is not None and not isinstance(next_cursor, str):
        raise bad("'next_cursor' is not text")
    has_more = body.get("has_more", next_cursor is not None)
    if not isinstance(has_more, bool):
        raise bad("'has_more' is not true or false")
    extracts = []
    for item in body["extracts"]:
        if not isinstance(item, dict) or not isinstance(item.get("files"), list):
            raise bad("an extract without a 'files' list")
        urn, stamp = item.get("urn"), item.get("stamp")
        if not (isinstance(urn, str) and URN.fullmatch(urn)):
            # landing.URN: ASCII 0-9 only; digits of other scripts would name another folder.
            raise bad(f"URN {str(urn)[:20]!r} is not 6 digits 0-9")
        if not (isinstance(stamp, str) and _SEGMENT.fullmatch(stamp)):
            raise bad(f"extract stamp {str(stamp)[:40]!r} is not a plain folder name")
        files = []
        for entry in item["files"]:
            if not isinstance(entry, dict):
                raise bad("a file entry is not an object")
            name, sha256, href = entry.get("name"), entry.get("sha256"), entry.get("href")
            if not (isinstance(name, str) and _SEGMENT.fullmatch(name) and kind_of(name)):
                raise bad(
                    f"file name {str(name)[:40]!r} is not a register extract's (docs/feed.md)"
                )
            if not (isinstance(sha256, str) and _SHA256.fullmatch(sha256.lower())):
                raise bad(f"file {name} has no sha256")
            if not isinstance(href, str):
                raise bad(f"file {name} has no href")
            files.append(FeedFile(name, sha256.lower(), client.url_for(href)))
        extracts.append(FeedExtract(urn, stamp, tuple(files)))
    return Page(tuple(extracts), next_cursor, has_more)
