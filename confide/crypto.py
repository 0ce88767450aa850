"""Field encryption: AES-256-GCM with keys that live outside the database.

Message bodies, attachments and notes are stored as opaque blobs made here. A blob is::

    version (1 byte, = 1)
    key id length (1 byte, 1..16) | key id (ASCII, [A-Za-z0-9_-])
    nonce (12 random bytes)
    AES-256-GCM ciphertext followed by its 16-byte tag

The associated data of the AEAD is the header (version, length and key id) followed by the
caller's `context`, e.g. b"message:42:body". A blob copied to another row or column, or one
whose header was edited, therefore fails to decrypt, as does any change to a single byte.
Every failure (wrong key, unknown key id, tampering, truncation) raises `DecryptionError`,
whose message never contains plaintext or key material.

Keys
----
Keys are never stored in the database, so a dump of the database alone reveals nothing.
`settings.ENCRYPTION_KEYS` (or the file named by ENCRYPTION_KEYS_FILE) holds comma-separated
"key_id:base64key" pairs, each key 32 random bytes in standard or URL-safe base64. The first
pair is the current key, which encrypts; every pair can decrypt. `generate_key_text("k2")`
makes a fresh pair. When ENCRYPTION_KEYS is empty (the embedded setup), a single key is
generated once into `VAR_DIR / "encryption_keys"` (mode 0600) and used from then on: back
that file up together with the database, or the data is lost.

Rotation
--------
1. Generate a new pair and put it FIRST, keeping the old ones: ENCRYPTION_KEYS="k2:...,k1:...".
   Restart every process. New writes use k2; old blobs still decrypt with k1.
2. Run the rotation command. It re-encrypts every blob for which `needs_rotation()` is true
   with `reencrypt()`, and reports how many rows are left.
3. Only when it reports zero rows left, remove the old pair: ENCRYPTION_KEYS="k2:...".
   (Backups made before step 2 still need the old key: keep it wherever backups are kept.)

`keyring()` caches the parsed keys; `reset_keyring()` drops the cache (tests, or after editing
the key file). Changing `settings.ENCRYPTION_KEYS` or `settings.VAR_DIR` also reloads.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import threading
import time
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = [
    "Blob",
    "DecryptionError",
    "Keyring",
    "decrypt",
    "decrypt_text",
    "encrypt",
    "encrypt_text",
    "generate_key_text",
    "key_id_of",
    "keyring",
    "needs_rotation",
    "reencrypt",
    "reset_keyring",
]

VERSION = 1
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
MAX_KEY_ID_LENGTH = 16
KEY_FILE_NAME = "encryption_keys"

_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,16}")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
# What decrypt accepts: bytes, or a memoryview as some database drivers return for binary columns.
Blob = bytes | bytearray | memoryview
# How long to wait for a concurrent creator to finish writing the key file.
_KEY_FILE_WAIT_SECONDS = 2.0


class DecryptionError(Exception):
    """A blob could not be decrypted: wrong key or context, unknown key id, tampered or
    truncated data. The message never contains plaintext or key material."""


def _valid_key_id(key_id: str) -> bool:
    return _KEY_ID.fullmatch(key_id) is not None


def _decode_key(text: str) -> bytes | None:
    """The bytes of a standard or URL-safe base64 key (padding optional), or None."""
    if _BASE64.fullmatch(text) is None or ("=" in text and len(text) % 4):
        return None
    body = text.rstrip("=").replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


@dataclass(frozen=True)
class Keyring:
    """The keys that can decrypt, by id, and the id of the one that encrypts.

    The keys are left out of `repr()` so they cannot end up in logs or error pages.
    """

    current_id: str
    keys: Mapping[str, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        if not all(_valid_key_id(key_id) for key_id in self.keys):
            raise ValueError("key ids must be 1-16 characters of [A-Za-z0-9_-]")
        if any(len(key) != KEY_BYTES for key in self.keys.values()):
            raise ValueError(f"every key must be {KEY_BYTES} bytes")
        if self.current_id not in self.keys:
            raise ValueError("the current key id is not among the keys")
        # A read-only copy: the caller's dict cannot change the keyring afterwards.
        object.__setattr__(self, "keys", types.MappingProxyType(dict(self.keys)))

    @classmethod
    def parse(cls, text: str, *, source: str = "ENCRYPTION_KEYS") -> Keyring:
        """Parse "id:base64key,id:base64key"; the first pair is the current key.

        Raises ImproperlyConfigured naming the entry by position (and id, once valid), never
        quoting key material.
        """
        text = text.strip()
        if not text:
            raise ImproperlyConfigured(f"{source} is empty: it needs at least one id:key pair")
        keys: dict[str, bytes] = {}
        for position, raw_entry in enumerate(text.split(","), start=1):
            entry = raw_entry.strip()
            where = f"{source}: entry {position}"
            if not entry:
                raise ImproperlyConfigured(f"{where} is empty (stray comma?)")
            key_id, colon, key_text = entry.partition(":")
            key_id, key_text = key_id.strip(), key_text.strip()
            if not colon:
                raise ImproperlyConfigured(f'{where} is not of the form "id:base64key"')
            if not _valid_key_id(key_id):
                raise ImproperlyConfigured(
                    f"{where} has an invalid key id (1-16 characters of [A-Za-z0-9_-])"
                )
            where = f"{where} ({key_id!r})"
            if key_id in keys:
                raise ImproperlyConfigured(f"{where} repeats a key id already used")
            if not key_text:
                raise ImproperlyConfigured(f"{where} has no key after the colon")
            key = _decode_key(key_text)
            if key is None:
                raise ImproperlyConfigured(f"{where} is not valid base64")
            if len(key) != KEY_BYTES:
                raise ImproperlyConfigured(
                    f"{where} decodes to {len(key)} bytes; AES-256 needs {KEY_BYTES}"
                )
            keys[key_id] = key
        current_id = next(iter(keys))
        return cls(current_id=current_id, keys=keys)


def generate_key_text(key_id: str) -> str:
    """A fresh "id:base64key" pair (32 random bytes, URL-safe base64) for ENCRYPTION_KEYS."""
    if not _valid_key_id(key_id):
        raise ValueError("key ids must be 1-16 characters of [A-Za-z0-9_-]")
    return f"{key_id}:{base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode('ascii')}"


# --- Loading and caching -----------------------------------------------------------------------

_lock = threading.Lock()
_cache: tuple[tuple[str, str], Keyring] | None = None


def _key_file_text(path: Path) -> str:
    """The key file's text, creating it with one fresh key if it does not exist yet.

    O_CREAT|O_EXCL makes creation atomic: of several processes starting at once exactly one
    writes a key, and the others read that one (waiting briefly if it is mid-write).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError as exc:
        raise ImproperlyConfigured(f"cannot create the key file {path}: {exc}") from None
    else:
        text = generate_key_text("k1") + "\n"
        try:
            data = text.encode("ascii")
            while data:  # one small write in practice, so readers see all of it or nothing
                data = data[os.write(fd, data) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        return text

    deadline = time.monotonic() + _KEY_FILE_WAIT_SECONDS
    while True:
        try:
            text = path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise ImproperlyConfigured(f"cannot read the key file {path}: {exc}") from None
        if text.strip():
            return text
        # Empty: another process may have created it and not written yet.
        if time.monotonic() >= deadline:
            raise ImproperlyConfigured(
                f"the key file {path} is empty; if no data was ever encrypted with it, delete "
                "it and a new key will be generated, otherwise restore it from a backup"
            )
        time.sleep(0.02)


def _load(config: str, var_dir: str) -> Keyring:
    if config.strip():
        return Keyring.parse(config)
    path = Path(var_dir) / KEY_FILE_NAME
    return Keyring.parse(_key_file_text(path), source=f"key file {path}")


def keyring() -> Keyring:
    """The configured keys: settings.ENCRYPTION_KEYS, or else the generated key file. Cached."""
    global _cache
    config = str(settings.ENCRYPTION_KEYS or "")
    var_dir = "" if config.strip() else str(settings.VAR_DIR)
    source = (config, var_dir)
    cached = _cache
    if cached is not None and cached[0] == source:
        return cached[1]
    with _lock:
        if _cache is not None and _cache[0] == source:
            return _cache[1]
        loaded = _load(config, var_dir)
        _cache = (source, loaded)
        return loaded


def reset_keyring() -> None:
    """Forget the cached keys; the next use reads the configuration again."""
    global _cache
    with _lock:
        _cache = None


# --- The blob format -----------------------------------------------------------------------------


def _split(blob: Blob) -> tuple[bytes, str, bytes, bytes]:
    """(header, key id, nonce, ciphertext+tag) of a blob, or DecryptionError if malformed."""
    if not isinstance(blob, bytes | bytearray | memoryview):
        raise TypeError("an encrypted value must be bytes (or a memoryview of them)")
    blob = bytes(blob)
    if len(blob) < 2:
        raise DecryptionError("the encrypted value is truncated")
    if blob[0] != VERSION:
        raise DecryptionError(f"unknown encryption format version {blob[0]}")
    id_length = blob[1]
    header_length = 2 + id_length
    if not 1 <= id_length <= MAX_KEY_ID_LENGTH:
        raise DecryptionError("the encrypted value has a malformed key id")
    if len(blob) < header_length + NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("the encrypted value is truncated")
    try:
        key_id = blob[2:header_length].decode("ascii")
    except UnicodeDecodeError:
        raise DecryptionError("the encrypted value has a malformed key id") from None
    if not _valid_key_id(key_id):
        raise DecryptionError("the encrypted value has a malformed key id")
    nonce_end = header_length + NONCE_BYTES
    return blob[:header_length], key_id, blob[header_length:nonce_end], blob[nonce_end:]


def _header(key_id: str) -> bytes:
    encoded = key_id.encode("ascii")
    return bytes((VERSION, len(encoded))) + encoded


def encrypt(plaintext: bytes, *, context: bytes) -> bytes:
    """Encrypt with the current key; `context` (e.g. b"message:42:body") must match on decrypt."""
    ring = keyring()
    header = _header(ring.current_id)
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = AESGCM(ring.keys[ring.current_id]).encrypt(nonce, plaintext, header + context)
    return header + nonce + sealed


def decrypt(blob: Blob, *, context: bytes) -> bytes:
    """The plaintext of a blob made by `encrypt` with the same context, under any known key."""
    header, key_id, nonce, sealed = _split(blob)
    key = keyring().keys.get(key_id)
    if key is None:
        raise DecryptionError(f"the encrypted value uses key {key_id!r}, which is not configured")
    try:
        return AESGCM(key).decrypt(nonce, sealed, header + context)
    except InvalidTag:
        raise DecryptionError(
            "the encrypted value does not authenticate (wrong key or context, or tampered)"
        ) from None


def encrypt_text(text: str, *, context: str) -> bytes:
    """`encrypt` for text: UTF-8 plaintext and context."""
    return encrypt(text.encode("utf-8"), context=context.encode("utf-8"))


def decrypt_text(blob: Blob, *, context: str) -> str:
    """`decrypt` for text made by `encrypt_text`."""
    plaintext = decrypt(blob, context=context.encode("utf-8"))
    try:
        return plaintext.decode("utf-8")
    except UnicodeDecodeError:
        raise DecryptionError("the decrypted value is not UTF-8 text") from None


def key_id_of(blob: Blob) -> str:
    """The id of the key that encrypted `blob` (read from its header; nothing is decrypted)."""
    return _split(blob)[1]


def needs_rotation(blob: Blob) -> bool:
    """Whether `blob` was encrypted with a key other than the current one."""
    return key_id_of(blob) != keyring().current_id


def reencrypt(blob: Blob, *, context: bytes) -> bytes:
    """Decrypt with whichever key made `blob` and encrypt again with the current key."""
    return encrypt(decrypt(blob, context=context), context=context)
