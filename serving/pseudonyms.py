"""Keyed pseudonyms for pupils: what leaves the restricted tier instead of the UPN.

`pupil_ref` is HMAC-SHA256 of the UPN under a secret key taken from the environment
(PSEUDONYM_KEY), so the same pupil gets the same pseudonym in every run and every extract,
and nobody without the key can compute it from a UPN (a plain hash of a UPN could be reversed
by hashing every possible UPN). The key is never stored in the repository: `.env.example`
holds a placeholder only. Changing the key changes every pseudonym.
"""

import hashlib
import hmac
import os

KEY_ENV = "PSEUDONYM_KEY"
# Placeholders that must never be used as a key (the value of .env.example).
PLACEHOLDER_PREFIX = "change-me"
MIN_KEY_LENGTH = 16


class PseudonymKeyError(RuntimeError):
    """The pseudonym key is missing or is a placeholder: a problem for whoever deploys."""


def pseudonym_key(environ: dict[str, str] | None = None) -> bytes:
    """The key from PSEUDONYM_KEY; PseudonymKeyError says how to set it."""
    value = (environ if environ is not None else os.environ).get(KEY_ENV, "")
    if not value or value.startswith(PLACEHOLDER_PREFIX) or len(value) < MIN_KEY_LENGTH:
        raise PseudonymKeyError(
            f"{KEY_ENV} is not set to a real key (at least {MIN_KEY_LENGTH} characters, not "
            "the .env.example placeholder). Generate one with "
            '`python3 -c "import secrets; print(secrets.token_hex(32))"`, keep it secret and '
            "keep it stable: changing it changes every pupil's pseudonym."
        )
    return value.encode("utf-8")


def pupil_ref(upn: str, key: bytes) -> str:
    """The pseudonym of `upn`: 32 hex digits (128 bits) of HMAC-SHA256 under `key`."""
    return hmac.new(key, upn.strip().upper().encode("ascii"), hashlib.sha256).hexdigest()[:32]
