"""The keyring: SAFEGUARD_ENCRYPTION_KEY read and checked, keys named by fingerprint only, the demo key file."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from storage.crypto import (
    KeyringError,
    create_key_file,
    demo_key_file,
    fingerprint,
    keys_from_env,
    looks_like_token,
    new_key,
    parse_keys,
    read_key_file,
)


def test_the_first_key_encrypts_and_any_key_decrypts() -> None:
    old, new = new_key(), new_key()
    token = parse_keys(old).encrypt("Test Pupil A's words (made up)")
    both = parse_keys(f" {new} , {old} ")  # spaces around the commas are forgiven
    assert both.decrypt(token) == "Test Pupil A's words (made up)"
    assert not both.is_current(token)
    rotated = both.rotate(token)
    assert both.is_current(rotated)
    assert parse_keys(new).decrypt(rotated) == "Test Pupil A's words (made up)"
    with pytest.raises(KeyringError, match=r"cannot be decrypted with SAFEGUARD_ENCRYPTION_KEY \(key [0-9a-f]{8}\)"):
        parse_keys(old).decrypt(rotated)


def test_a_key_is_named_by_its_fingerprint_never_shown() -> None:
    key = new_key()
    keyring = parse_keys(key)
    assert keyring.primary == fingerprint(key.encode()) and len(keyring.primary) == 8
    assert key not in repr(keyring)


@pytest.mark.parametrize(("text", "message"), [
    ("", "SAFEGUARD_ENCRYPTION_KEY is empty; make one with `safeguard keys new`"),
    (" , ", "SAFEGUARD_ENCRYPTION_KEY is empty"),
    ("correct horse battery staple", "SAFEGUARD_ENCRYPTION_KEY is not a Fernet key (44 characters of url-safe base64"),
    ("{good},zzz", "key 2 of 2 in SAFEGUARD_ENCRYPTION_KEY is not a Fernet key"),
    ("{good}é", "SAFEGUARD_ENCRYPTION_KEY is not a Fernet key"),
])
def test_a_malformed_key_is_named_by_its_place_not_its_value(text: str, message: str) -> None:
    good = new_key()
    with pytest.raises(KeyringError) as refused:
        parse_keys(text.format(good=good))
    assert str(refused.value).startswith(message)
    assert good not in str(refused.value) and "horse" not in str(refused.value)


def test_an_unset_or_blank_variable_is_no_keyring() -> None:
    assert keys_from_env({}) is None
    assert keys_from_env({"SAFEGUARD_ENCRYPTION_KEY": "  "}) is None
    key = new_key()
    found = keys_from_env({"SAFEGUARD_ENCRYPTION_KEY": key})
    assert found is not None and found.primary == fingerprint(key.encode())


def test_tokens_are_told_from_text_written_before_encryption() -> None:
    token = parse_keys(new_key()).encrypt("x")
    assert looks_like_token(token)
    assert not looks_like_token("Spoke to the parents (made up)")
    assert not looks_like_token("gAAAAA but then words")
    assert not looks_like_token("gAAAAAB")  # the prefix alone is too short to be one


def test_the_demo_key_file_is_written_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = demo_key_file(tmp_path / "safeguard.db")
    assert path == tmp_path / "safeguard.key"
    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(create_key_file(path))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True], "eight starting together: one writes it, all use it"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["safeguard.key"], "no temporary file left behind"
    keyring = read_key_file(path)
    assert keyring.source == f"the key file {path}"
    assert not create_key_file(path)


def test_an_unreadable_key_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "safeguard.key"
    bad.write_text("not a key\n", encoding="ascii")
    with pytest.raises(KeyringError, match=f"the key file {bad} is not a Fernet key"):
        read_key_file(bad)
    with pytest.raises(KeyringError, match="cannot be read: No such file or directory"):
        read_key_file(tmp_path / "missing.key")
