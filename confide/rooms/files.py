"""What a message attachment really is, decided from its bytes.

The browser-declared content type and the file name are never trusted: `check_upload` sniffs the
first bytes for a known signature (PDF, PNG, JPEG, GIF, WebP, and the audio formats browsers
record voice notes in), enforces the per-category size limit and rejects everything else with a
`RejectedFile` that carries a machine code and a sentence a person can read. `safe_filename`
turns whatever name the client sent into a harmless download name with the right extension.

Standard library only; nothing here touches the database or the file system.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "LIMITS",
    "REJECT_CODES",
    "SNIFF_BYTES",
    "FileKind",
    "RejectedFile",
    "check_upload",
    "safe_filename",
    "sniff",
]

MIB = 1024 * 1024

#: Largest accepted upload, in bytes, per category.
LIMITS: Mapping[str, int] = MappingProxyType(
    {
        "document": 10 * MIB,
        "image": 10 * MIB,
        "audio": 25 * MIB,
    }
)

#: How many leading bytes `sniff` looks at.
SNIFF_BYTES = 64

#: A PDF must end with "%%EOF" within this many trailing bytes, or it was cut short.
PDF_EOF_WINDOW = 1024

REJECT_CODES = frozenset({"too_large", "empty", "unsupported_type", "malformed"})

MAX_FILENAME_CHARS = 80
# Common file systems cap a name at 255 bytes; 80 four-byte characters would not fit.
MAX_FILENAME_BYTES = 255
FALLBACK_STEM = "attachment"


@dataclass(frozen=True, slots=True)
class FileKind:
    content_type: str  # canonical, e.g. "application/pdf", "image/png", "audio/webm"
    category: str  # "document", "image" or "audio"
    extension: str  # ".pdf", ".png", ".webm", ...


class RejectedFile(ValueError):
    """An upload that will not be stored. `code` is for programs, `reason` is for people."""

    def __init__(self, reason: str, code: str) -> None:
        if code not in REJECT_CODES:
            raise ValueError(f"unknown rejection code {code!r}")
        super().__init__(reason)
        self.reason = reason
        self.code = code

    def __reduce__(self) -> tuple[type[RejectedFile], tuple[str, str]]:
        return (type(self), (self.reason, self.code))


PDF = FileKind("application/pdf", "document", ".pdf")
PNG = FileKind("image/png", "image", ".png")
JPEG = FileKind("image/jpeg", "image", ".jpg")
GIF = FileKind("image/gif", "image", ".gif")
WEBP = FileKind("image/webp", "image", ".webp")
WEBM = FileKind("audio/webm", "audio", ".webm")
OGG = FileKind("audio/ogg", "audio", ".ogg")
MP3 = FileKind("audio/mpeg", "audio", ".mp3")
MP4_AUDIO = FileKind("audio/mp4", "audio", ".m4a")
WAV = FileKind("audio/wav", "audio", ".wav")

KINDS: tuple[FileKind, ...] = (PDF, PNG, JPEG, GIF, WEBP, WEBM, OGG, MP3, MP4_AUDIO, WAV)

# ISO base media (MP4) brands accepted as audio/mp4, as the major brand or a compatible one.
MP4_AUDIO_BRANDS = frozenset({b"M4A ", b"mp42", b"isom", b"dash"})

SUPPORTED_SUMMARY = (
    "Attach a PDF, an image (PNG, JPEG, GIF or WebP) "
    "or an audio recording (WebM, Ogg, MP3, M4A or WAV)."
)

CATEGORY_NOUNS: Mapping[str, str] = MappingProxyType(
    {"document": "documents", "image": "images", "audio": "audio recordings"}
)


# --- sniffing ---------------------------------------------------------------------------------


def _is_id3(head: bytes) -> bool:
    """An ID3v2 tag header: "ID3", version 2-4, revision, flags, a 28-bit "syncsafe" size."""
    if len(head) < 10 or not head.startswith(b"ID3"):
        return False
    major, revision = head[3], head[4]
    return major in (2, 3, 4) and revision != 0xFF and all(b < 0x80 for b in head[6:10])


def _is_mpeg_audio_frame(head: bytes) -> bool:
    """An MPEG-1/2/2.5 audio frame header (11-bit sync, FF Ex / FF Fx) with sane fields."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0b11  # 0b01 is reserved
    layer = (head[1] >> 1) & 0b11  # 0b00 is reserved (ADTS AAC uses it)
    bitrate = head[2] >> 4  # 0b1111 is invalid
    sample_rate = (head[2] >> 2) & 0b11  # 0b11 is reserved
    return version != 0b01 and layer != 0b00 and bitrate != 0b1111 and sample_rate != 0b11


def _is_mp4_audio(head: bytes) -> bool:
    """An ISO base media file whose first box is "ftyp" with an accepted brand."""
    if len(head) < 16 or head[4:8] != b"ftyp":
        return False
    box_size = int.from_bytes(head[0:4], "big")
    if box_size < 16 or (box_size - 16) % 4 != 0:
        return False
    brands = [head[8:12]]
    end = min(box_size, len(head))
    brands.extend(head[i : i + 4] for i in range(16, end - 3, 4))
    return any(brand in MP4_AUDIO_BRANDS for brand in brands)


def sniff(head: bytes) -> FileKind | None:
    """The kind of file these leading bytes (the first `SNIFF_BYTES` or so) start, if accepted."""
    head = bytes(head[:SNIFF_BYTES])
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if len(head) >= 12 and head.startswith(b"RIFF"):
        form = head[8:12]
        if form == b"WEBP":
            return WEBP
        if form == b"WAVE":
            return WAV
        return None
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: WebM / Matroska
        return WEBM
    if head.startswith(b"OggS"):
        return OGG
    if _is_mp4_audio(head):
        return MP4_AUDIO
    if _is_id3(head) or _is_mpeg_audio_frame(head):
        return MP3
    return None


# --- checking an upload -----------------------------------------------------------------------


def _mib(size: int) -> str:
    value = size / MIB
    return f"{value:g} MiB"


def _subject(declared_name: str) -> str:
    """How the reason refers to the file: its cleaned-up name when there is one."""
    cleaned = _clean_name(declared_name)
    if len(cleaned) > 60:
        cleaned = cleaned[:59].rstrip() + "\u2026"
    return f'"{cleaned}"' if any(ch.isalnum() for ch in cleaned) else "This file"


def check_upload(data: bytes, *, declared_name: str = "") -> FileKind:
    """The kind of an uploaded file, from its content alone; raises `RejectedFile` otherwise.

    `declared_name` is only used to name the file in the reason; it never decides the type.
    """
    subject = _subject(declared_name)
    if not data:
        raise RejectedFile(f"{subject} is empty.", "empty")
    kind = sniff(data[:SNIFF_BYTES])
    if kind is None:
        raise RejectedFile(
            f"{subject} is not a kind of file that can be attached. {SUPPORTED_SUMMARY}",
            "unsupported_type",
        )
    limit = LIMITS[kind.category]
    if len(data) > limit:
        raise RejectedFile(
            f"{subject} is too large: {CATEGORY_NOUNS[kind.category]} can be at most "
            f"{_mib(limit)}.",
            "too_large",
        )
    if kind is PDF and b"%%EOF" not in data[-PDF_EOF_WINDOW:]:
        raise RejectedFile(
            f"{subject} looks like an incomplete or damaged PDF. "
            "Try saving or exporting it again, then attach the new file.",
            "malformed",
        )
    return kind


# --- download names ---------------------------------------------------------------------------

# Unicode categories dropped outright: controls, format characters (bidi overrides such as
# U+202E that make "gpj.exe" read as "exe.jpg"), surrogates, private use, unassigned.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
# Quotes of every kind, plus characters that are unsafe in a header parameter or a file name.
_DROPPED_CHARS = frozenset(
    "\"'`"
    "\u00ab\u00bb\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u2039\u203a"
    "\u2032\u2033\uff02\uff07"
    "<>:|?*;%\\/"
)
_WHITESPACE = re.compile(r"\s+")
# A trailing ".ext": up to 8 ASCII letters or digits, with at least one letter ("3.5" is no
# extension).
_EXTENSION = re.compile(r"\.(?=[0-9]*[A-Za-z])[A-Za-z0-9]{1,8}$")
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)


def _clean_name(name: str) -> str:
    """The last path component of `name`, without control characters, quotes or odd spacing."""
    name = unicodedata.normalize("NFC", name)
    # Line and paragraph separators and control whitespace become spaces before anything is cut.
    name = "".join(" " if ch.isspace() else ch for ch in name)
    name = re.split(r"[/\\]", name)[-1]
    kept = (
        ch
        for ch in name
        if unicodedata.category(ch) not in _DROPPED_CATEGORIES and ch not in _DROPPED_CHARS
    )
    return _WHITESPACE.sub(" ", "".join(kept)).strip()


def _trim(stem: str) -> str:
    return stem.strip(" ._-")


def _fit(stem: str, extension: str) -> str:
    """`stem` cut so that stem + extension respects the character and byte limits."""
    stem = stem[: MAX_FILENAME_CHARS - len(extension)]
    while len((stem + extension).encode("utf-8")) > MAX_FILENAME_BYTES:
        stem = stem[:-1]
    return stem.rstrip(" ._-")


def safe_filename(name: str, kind: FileKind) -> str:
    """A download name for an attachment of `kind`, derived from the name the client sent.

    Only the last path component is kept; control and format characters, quotes and characters
    unsafe in headers or on common file systems are removed; the result is at most 80 characters
    (and 255 UTF-8 bytes) and always ends with `kind.extension`, which replaces any extension the
    name had. When nothing usable is left the name is "attachment" plus the extension.
    """
    extension = kind.extension
    stem = _fit(_trim(_EXTENSION.sub("", _clean_name(name))), extension)
    if not any(ch.isalnum() for ch in stem):
        return FALLBACK_STEM + extension
    if stem.split(".")[0].rstrip().upper() in _WINDOWS_RESERVED:
        stem = _fit(f"_{stem}", extension)
    return stem + extension
