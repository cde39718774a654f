"""The pseudonym key comes from the environment and a placeholder is refused."""

import hashlib
import hmac

import pytest

from serving.pseudonyms import PseudonymKeyError, pseudonym_key, pupil_ref
from warehouse.project import PROJECT_ROOT


def test_the_env_example_placeholder_and_a_missing_key_are_refused() -> None:
    example = (PROJECT_ROOT / ".env.example").read_text()
    placeholder = next(
        line.split("=", 1)[1] for line in example.splitlines() if line.startswith("PSEUDONYM_KEY=")
    )
    for environ in ({}, {"PSEUDONYM_KEY": placeholder}, {"PSEUDONYM_KEY": "short"}):
        with pytest.raises(PseudonymKeyError, match="PSEUDONYM_KEY"):
            pseudonym_key(environ)


def test_pseudonyms_are_keyed_hmacs_stable_for_one_key() -> None:
    upn = "A881200390001"
    key = pseudonym_key({"PSEUDONYM_KEY": "a-real-key-of-some-length"})
    assert pupil_ref(upn, key) == pupil_ref(upn, key)
    assert pupil_ref(upn, key) == hmac.new(key, upn.encode(), hashlib.sha256).hexdigest()[:32]
    assert pupil_ref(upn, key) != pupil_ref(upn, b"another-key-of-some-length")
    assert pupil_ref(upn, key) != hashlib.sha256(upn.encode()).hexdigest()[:32]
