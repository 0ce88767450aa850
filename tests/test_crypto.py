"""Field encryption (confide.crypto): format, authentication, keys, rotation. No database."""

from __future__ import annotations

import base64
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import ImproperlyConfigured
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from confide import crypto
from confide.crypto import (
    DecryptionError,
    Keyring,
    decrypt,
    decrypt_text,
    encrypt,
    encrypt_text,
    generate_key_text,
    key_id_of,
    keyring,
    needs_rotation,
    reencrypt,
    reset_keyring,
)

KEY1 = bytes(range(32))
KEY2 = bytes(range(100, 132))
KEY1_B64 = base64.b64encode(KEY1).decode()
KEY2_B64 = base64.urlsafe_b64encode(KEY2).decode()
K1 = f"k1:{KEY1_B64}"
K2 = f"k2:{KEY2_B64}"
CONTEXT = b"message:42:body"
HEADER_K1 = b"\x01\x02k1"


@pytest.fixture(autouse=True)
def _keys(settings: Any, tmp_path: Path) -> Iterator[None]:
    settings.VAR_DIR = tmp_path / "var"
    settings.ENCRYPTION_KEYS = K1
    reset_keyring()
    yield
    reset_keyring()


def use_keys(settings: Any, text: str) -> None:
    settings.ENCRYPTION_KEYS = text
    reset_keyring()


# --- Round trips and format ------------------------------------------------------------------


@pytest.mark.parametrize(
    "plaintext",
    [b"", b"x", b"hello", "Grüße, 日本語, 😀".encode(), bytes(range(256)), b"\x00" * 100_000],
)
def test_it_round_trips_bytes(plaintext: bytes) -> None:
    blob = encrypt(plaintext, context=CONTEXT)
    assert decrypt(blob, context=CONTEXT) == plaintext


@pytest.mark.parametrize(
    "text", ["", "a", "Grüße aus Köln", "日本語のメッセージ", "😀\u200b\n\t", "\x00"]
)
def test_it_round_trips_text(text: str) -> None:
    blob = encrypt_text(text, context="message:7:body")
    assert isinstance(blob, bytes)
    assert decrypt_text(blob, context="message:7:body") == text


def test_it_round_trips_with_a_non_ascii_context() -> None:
    blob = encrypt_text("note", context="note:é:body")
    assert decrypt_text(blob, context="note:é:body") == "note"
    with pytest.raises(DecryptionError):
        decrypt_text(blob, context="note:e:body")


def test_it_writes_version_key_id_nonce_then_ciphertext_and_tag() -> None:
    plaintext = b"twelve bytes"
    blob = encrypt(plaintext, context=CONTEXT)
    assert blob[:4] == HEADER_K1
    assert len(blob) == 4 + 12 + len(plaintext) + 16
    nonce, sealed = blob[4:16], blob[16:]
    # Plain AES-256-GCM underneath, with the header and the context as associated data.
    assert AESGCM(KEY1).decrypt(nonce, sealed, HEADER_K1 + CONTEXT) == plaintext


def test_it_accepts_a_memoryview_as_database_drivers_return() -> None:
    blob = encrypt(b"from postgres", context=CONTEXT)
    assert decrypt(memoryview(blob), context=CONTEXT) == b"from postgres"
    assert key_id_of(memoryview(blob)) == "k1"


def test_it_uses_a_fresh_nonce_every_time() -> None:
    blobs = [encrypt(b"same plaintext", context=CONTEXT) for _ in range(200)]
    assert len(set(blobs)) == len(blobs)
    assert len({blob[4:16] for blob in blobs}) == len(blobs)
    assert all(decrypt(blob, context=CONTEXT) == b"same plaintext" for blob in blobs)


def test_it_never_puts_the_plaintext_in_the_blob() -> None:
    canary = "CANARY-7f3a-the-client-said-something-private"
    blob = encrypt_text(canary * 20, context="message:1:body")
    assert canary.encode() not in blob
    assert b"CANARY" not in blob
    assert base64.b64encode(canary.encode())[:16] not in blob
    assert KEY1 not in blob


# --- Authentication --------------------------------------------------------------------------


def test_it_refuses_a_blob_moved_to_another_context() -> None:
    blob = encrypt(b"body of message 42", context=b"message:42:body")
    for other in (b"message:43:body", b"message:42:subject", b"", b"message:42:body\x00"):
        with pytest.raises(DecryptionError):
            decrypt(blob, context=other)
    text_blob = encrypt_text("body", context="message:42:body")
    with pytest.raises(DecryptionError):
        decrypt_text(text_blob, context="message:4:body")


def test_it_refuses_a_change_to_any_byte() -> None:
    blob = encrypt(b"do not touch", context=CONTEXT)
    for index in range(len(blob)):
        for flip in (0x01, 0x80, 0xFF):
            tampered = bytearray(blob)
            tampered[index] ^= flip
            with pytest.raises(DecryptionError):
                decrypt(bytes(tampered), context=CONTEXT)


def test_it_refuses_a_truncated_or_extended_blob() -> None:
    blob = encrypt(b"complete", context=CONTEXT)
    for length in range(len(blob)):
        with pytest.raises(DecryptionError):
            decrypt(blob[:length], context=CONTEXT)
    for extra in (b"\x00", b"x" * 16):
        with pytest.raises(DecryptionError):
            decrypt(blob + extra, context=CONTEXT)


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"\x01",
        b"\x02\x02k1" + b"\x00" * 40,
        b"\x01\x00" + b"\x00" * 40,
        b"\x01\x11" + b"a" * 60,
    ],
)
def test_it_refuses_malformed_blobs_with_a_decryption_error(garbage: bytes) -> None:
    with pytest.raises(DecryptionError):
        decrypt(garbage, context=CONTEXT)
    with pytest.raises(DecryptionError):
        key_id_of(garbage)


def test_it_refuses_an_unknown_key_id() -> None:
    blob = encrypt(b"secret", context=CONTEXT)
    forged = b"\x01\x02zz" + blob[4:]
    with pytest.raises(DecryptionError, match="'zz'"):
        decrypt(forged, context=CONTEXT)


def test_it_refuses_a_blob_whose_key_is_no_longer_configured(settings: Any) -> None:
    blob = encrypt(b"secret", context=CONTEXT)
    use_keys(settings, K2)
    with pytest.raises(DecryptionError, match="not configured"):
        decrypt(blob, context=CONTEXT)


def test_it_refuses_a_key_id_pointing_at_another_key(settings: Any) -> None:
    use_keys(settings, f"{K1},{K2}")
    blob = encrypt(b"secret", context=CONTEXT)
    relabelled = b"\x01\x02k2" + blob[4:]
    with pytest.raises(DecryptionError):
        decrypt(relabelled, context=CONTEXT)


def test_its_decryption_errors_reveal_neither_plaintext_nor_key() -> None:
    blob = encrypt(b"PLAINTEXT-CANARY", context=CONTEXT)
    with pytest.raises(DecryptionError) as caught:
        decrypt(blob, context=b"elsewhere")
    message = str(caught.value)
    assert "PLAINTEXT-CANARY" not in message and KEY1_B64 not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_it_refuses_non_utf8_as_text() -> None:
    blob = encrypt(b"\xff\xfe", context=b"note:1:body")
    with pytest.raises(DecryptionError):
        decrypt_text(blob, context="note:1:body")


# --- Rotation -----------------------------------------------------------------------------------


def test_it_rotates_from_one_key_to_the_next(settings: Any) -> None:
    old = encrypt(b"written under k1", context=CONTEXT)
    assert key_id_of(old) == "k1" and not needs_rotation(old)

    use_keys(settings, f"{K2},{K1}")
    assert keyring().current_id == "k2"
    assert decrypt(old, context=CONTEXT) == b"written under k1"
    assert needs_rotation(old)
    fresh = encrypt(b"written under k2", context=CONTEXT)
    assert key_id_of(fresh) == "k2" and not needs_rotation(fresh)

    rotated = reencrypt(old, context=CONTEXT)
    assert key_id_of(rotated) == "k2"
    assert not needs_rotation(rotated)
    assert decrypt(rotated, context=CONTEXT) == b"written under k1"
    with pytest.raises(DecryptionError):
        reencrypt(old, context=b"another:row")  # re-encryption checks the context too

    use_keys(settings, K2)
    with pytest.raises(DecryptionError):
        decrypt(old, context=CONTEXT)
    assert decrypt(rotated, context=CONTEXT) == b"written under k1"
    assert decrypt(fresh, context=CONTEXT) == b"written under k2"


def test_it_reloads_when_the_setting_changes(settings: Any) -> None:
    assert keyring().current_id == "k1"
    settings.ENCRYPTION_KEYS = f"{K2},{K1}"  # no reset_keyring(): the cache notices
    assert keyring().current_id == "k2"


def test_it_caches_the_keyring() -> None:
    assert keyring() is keyring()
    first = keyring()
    reset_keyring()
    assert keyring() is not first and keyring() == first


# --- Key file (embedded setup) ------------------------------------------------------------------


def test_it_generates_a_private_key_file_once_and_reuses_it(settings: Any) -> None:
    settings.ENCRYPTION_KEYS = ""
    reset_keyring()
    key_file = Path(settings.VAR_DIR) / "encryption_keys"
    assert not key_file.exists()

    first = keyring()
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    content = key_file.read_text()
    assert content.startswith("k1:") and content.endswith("\n")
    assert first.current_id == "k1" and len(first.keys["k1"]) == 32
    blob = encrypt(b"kept across restarts", context=CONTEXT)

    reset_keyring()
    second = keyring()
    assert second.keys == first.keys
    assert key_file.read_text() == content
    assert decrypt(blob, context=CONTEXT) == b"kept across restarts"


def test_it_uses_a_key_file_that_already_exists(settings: Any) -> None:
    settings.ENCRYPTION_KEYS = ""
    key_file = Path(settings.VAR_DIR) / "encryption_keys"
    key_file.parent.mkdir(parents=True)
    key_file.write_text(f"{K2},{K1}")  # hand-written: no trailing newline
    reset_keyring()
    assert keyring().current_id == "k2"
    assert dict(keyring().keys) == {"k2": KEY2, "k1": KEY1}


def test_it_lets_concurrent_creators_agree_on_one_key(tmp_path: Path) -> None:
    key_file = tmp_path / "race" / "encryption_keys"
    barrier = threading.Barrier(8)
    results: list[str] = []

    def create() -> None:
        barrier.wait()
        results.append(crypto._key_file_text(key_file))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert set(results) == {key_file.read_text()}


def test_it_refuses_an_empty_key_file(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crypto, "_KEY_FILE_WAIT_SECONDS", 0.05)
    settings.ENCRYPTION_KEYS = ""
    key_file = Path(settings.VAR_DIR) / "encryption_keys"
    key_file.parent.mkdir(parents=True)
    key_file.write_text("")
    reset_keyring()
    with pytest.raises(ImproperlyConfigured, match="empty"):
        keyring()


def test_it_names_the_key_file_when_its_content_is_malformed(settings: Any) -> None:
    settings.ENCRYPTION_KEYS = ""
    key_file = Path(settings.VAR_DIR) / "encryption_keys"
    key_file.parent.mkdir(parents=True)
    short = base64.b64encode(b"sixteen byte key").decode()
    key_file.write_text(f"k1:{short}\n")
    reset_keyring()
    with pytest.raises(ImproperlyConfigured) as caught:
        keyring()
    assert str(key_file) in str(caught.value) and short not in str(caught.value)


# --- Configuration ------------------------------------------------------------------------------


def test_it_parses_several_pairs_with_the_first_as_current() -> None:
    ring = Keyring.parse(f" {K2} ,\n{K1}\n")
    assert ring.current_id == "k2"
    assert dict(ring.keys) == {"k2": KEY2, "k1": KEY1}


@pytest.mark.parametrize(
    "key_text",
    [
        base64.b64encode(KEY2).decode(),
        base64.urlsafe_b64encode(KEY2).decode(),
        base64.b64encode(KEY2).decode().rstrip("="),
        base64.urlsafe_b64encode(KEY2).decode().rstrip("="),
    ],
)
def test_it_accepts_standard_and_urlsafe_base64_with_or_without_padding(key_text: str) -> None:
    assert Keyring.parse(f"key_2-B:{key_text}").keys["key_2-B"] == KEY2


def test_it_keeps_the_keys_out_of_repr_and_read_only() -> None:
    ring = Keyring.parse(f"{K1},{K2}")
    assert "k1" in repr(ring)
    for secret in (KEY1_B64, KEY2_B64, repr(KEY1), repr(KEY2)):
        assert secret not in repr(ring)
    with pytest.raises(TypeError):
        ring.keys["k3"] = KEY1  # type: ignore[index]


def test_it_checks_a_keyring_built_directly() -> None:
    with pytest.raises(ValueError, match="current"):
        Keyring(current_id="k9", keys={"k1": KEY1})
    with pytest.raises(ValueError, match="32 bytes"):
        Keyring(current_id="k1", keys={"k1": b"short"})
    with pytest.raises(ValueError, match="key ids"):
        Keyring(current_id="bad id", keys={"bad id": KEY1})


SHORT_B64 = base64.b64encode(b"sixteen byte key").decode()
LONG_B64 = base64.b64encode(KEY1 + KEY2).decode()
MALFORMED = {
    "empty": "",
    "blank": "  \n ",
    "only a comma": ",",
    "stray comma": f"{K1},,{K2}",
    "trailing comma": f"{K1},",
    "no id": KEY1_B64,
    "empty id": f":{KEY1_B64}",
    "id with a space": f"k 1:{KEY1_B64}",
    "id too long": f"a_very_long_key_id:{KEY1_B64}",
    "no key": "k1:",
    "not base64": f"k1:{KEY1_B64[:-4]}!!!=",
    "bad padding": f"k1:{KEY1_B64[:-1]}==",
    "space inside key": f"k1:{KEY1_B64[:10]} {KEY1_B64[10:]}",
    "16-byte key": f"k1:{SHORT_B64}",
    "64-byte key": f"k1:{LONG_B64}",
    "duplicate id": f"k1:{KEY1_B64},k1:{KEY2_B64}",
    "second entry broken": f"{K1},k2:{SHORT_B64}",
}


def key_fragments(text: str) -> list[str]:
    """Every piece of key material in a configuration text, long enough to be telling."""
    pieces = [text.strip()]
    for entry in text.split(","):
        pieces.append(entry.strip())
        pieces.append(entry.partition(":")[2].strip())
    pieces += [KEY1_B64, KEY2_B64, SHORT_B64, LONG_B64, KEY1_B64[:12], KEY2_B64[:12]]
    return [piece for piece in pieces if len(piece) >= 8]


@pytest.mark.parametrize("text", MALFORMED.values(), ids=MALFORMED.keys())
def test_it_refuses_malformed_configuration_without_quoting_keys(settings: Any, text: str) -> None:
    with pytest.raises(ImproperlyConfigured) as caught:
        Keyring.parse(text)
    message = str(caught.value)
    assert message.startswith("ENCRYPTION_KEYS")
    for fragment in key_fragments(text):
        assert fragment not in message


@pytest.mark.parametrize(
    "text",
    [v for v in MALFORMED.values() if v.strip()],
    ids=[k for k, v in MALFORMED.items() if v.strip()],
)
def test_it_refuses_malformed_settings_on_first_use(settings: Any, text: str) -> None:
    use_keys(settings, text)
    with pytest.raises(ImproperlyConfigured) as caught:
        encrypt(b"x", context=CONTEXT)
    for fragment in key_fragments(text):
        assert fragment not in str(caught.value)
        assert fragment not in repr(caught.value)
    assert caught.value.__cause__ is None


def test_it_generates_key_text_that_parses() -> None:
    first, second = generate_key_text("k3"), generate_key_text("k3")
    assert first != second
    assert first.startswith("k3:")
    ring = Keyring.parse(first)
    assert ring.current_id == "k3" and len(ring.keys["k3"]) == 32
    for bad in ("", "k 3", "x" * 17, "k:3", "k,3", "ключ"):
        with pytest.raises(ValueError):
            generate_key_text(bad)


# --- Properties ---------------------------------------------------------------------------------


@given(plaintext=st.binary(max_size=4096), context=st.binary(max_size=256))
@hypothesis_settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_it_round_trips_arbitrary_bytes_and_contexts(plaintext: bytes, context: bytes) -> None:
    blob = encrypt(plaintext, context=context)
    assert decrypt(blob, context=context) == plaintext
    assert len(blob) == 4 + 12 + len(plaintext) + 16
    with pytest.raises(DecryptionError):
        decrypt(blob, context=context + b"\x00")


@given(text=st.text(max_size=512), context=st.text(max_size=64), other=st.text(max_size=64))
@hypothesis_settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_it_round_trips_arbitrary_text_and_binds_the_context(
    text: str, context: str, other: str
) -> None:
    blob = encrypt_text(text, context=context)
    assert decrypt_text(blob, context=context) == text
    if other != context:
        with pytest.raises(DecryptionError):
            decrypt_text(blob, context=other)
