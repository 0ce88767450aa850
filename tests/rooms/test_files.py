"""Tests for attachment sniffing, limits and download names (plain functions, no database)."""

from __future__ import annotations

import pickle
import struct
import unicodedata
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from confide.rooms.files import (
    LIMITS,
    SNIFF_BYTES,
    FileKind,
    RejectedFile,
    check_upload,
    safe_filename,
    sniff,
)

MIB = 1024 * 1024

PDF_KIND = FileKind("application/pdf", "document", ".pdf")
PNG_KIND = FileKind("image/png", "image", ".png")
JPEG_KIND = FileKind("image/jpeg", "image", ".jpg")
WEBM_KIND = FileKind("audio/webm", "audio", ".webm")

HYPOTHESIS = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


# --- samples, built here from their specifications ----------------------------------------------


def filler(size: int = 200) -> bytes:
    return bytes((i * 37 + 11) % 256 for i in range(size))


def make_pdf() -> bytes:
    """A minimal but well-formed PDF: one empty page, a correct xref table, %%EOF."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def make_png() -> bytes:
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def make_jpeg() -> bytes:
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8" + app0 + filler() + b"\xff\xd9"


def make_gif(version: bytes = b"89a") -> bytes:
    screen = struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    return b"GIF" + version + screen + filler(40) + b"\x3b"


def riff(form: bytes, body: bytes) -> bytes:
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + form + body


def make_webp() -> bytes:
    vp8l = b"\x2f\x00\x00\x00\x00" + filler(16)
    return riff(b"WEBP", b"VP8L" + struct.pack("<I", len(vp8l)) + vp8l)


def make_wav() -> bytes:
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    samples = filler(400)
    return riff(
        b"WAVE",
        b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", 400) + samples,
    )


def make_webm() -> bytes:
    # EBML header: EBMLVersion 1, ReadVersion 1, MaxIDLength 4, MaxSizeLength 8, DocType "webm".
    body = (
        b"\x42\x86\x81\x01"
        b"\x42\xf7\x81\x01"
        b"\x42\xf2\x81\x04"
        b"\x42\xf3\x81\x08"
        b"\x42\x82\x84webm"
        b"\x42\x87\x81\x04"
        b"\x42\x85\x81\x02"
    )
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(body)]) + body + b"\x18\x53\x80\x67" + filler()


def make_ogg() -> bytes:
    opus_head = b"OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00"
    page = (
        b"OggS\x00\x02"
        + b"\x00" * 8  # granule position
        + b"\x01\x00\x00\x00"  # serial
        + b"\x00\x00\x00\x00"  # sequence
        + b"\x00\x00\x00\x00"  # checksum (not verified by the sniffer)
        + b"\x01"
        + bytes([len(opus_head)])
    )
    return page + opus_head + filler()


MP3_FRAME = b"\xff\xfb\x90\x64"  # MPEG-1 Layer III, 128 kbit/s, 44.1 kHz


def make_mp3_id3() -> bytes:
    return b"ID3\x04\x00\x00\x00\x00\x00\x00" + MP3_FRAME + filler(413)


def make_mp3_frames(header: bytes = MP3_FRAME) -> bytes:
    return header + filler(413) + header + filler(413)


def make_mp4(major: bytes = b"M4A ", compatible: tuple[bytes, ...] = (b"M4A ", b"isom")) -> bytes:
    brands = b"".join(compatible)
    ftyp = struct.pack(">I", 16 + len(brands)) + b"ftyp" + major + b"\x00\x00\x02\x00" + brands
    return ftyp + struct.pack(">I", 8 + 64) + b"mdat" + filler(64)


ACCEPTED: list[tuple[str, bytes, str, str, str]] = [
    ("pdf", make_pdf(), "application/pdf", "document", ".pdf"),
    ("png", make_png(), "image/png", "image", ".png"),
    ("jpeg", make_jpeg(), "image/jpeg", "image", ".jpg"),
    ("gif89a", make_gif(b"89a"), "image/gif", "image", ".gif"),
    ("gif87a", make_gif(b"87a"), "image/gif", "image", ".gif"),
    ("webp", make_webp(), "image/webp", "image", ".webp"),
    ("webm", make_webm(), "audio/webm", "audio", ".webm"),
    ("ogg", make_ogg(), "audio/ogg", "audio", ".ogg"),
    ("mp3-id3", make_mp3_id3(), "audio/mpeg", "audio", ".mp3"),
    ("mp3-mpeg1", make_mp3_frames(), "audio/mpeg", "audio", ".mp3"),
    ("mp3-mpeg2", make_mp3_frames(b"\xff\xf3\x90\x64"), "audio/mpeg", "audio", ".mp3"),
    ("mp3-mpeg25", make_mp3_frames(b"\xff\xe3\x90\x64"), "audio/mpeg", "audio", ".mp3"),
    ("mp3-layer2", make_mp3_frames(b"\xff\xfd\x90\x64"), "audio/mpeg", "audio", ".mp3"),
    ("m4a", make_mp4(b"M4A "), "audio/mp4", "audio", ".m4a"),
    ("mp4-mp42", make_mp4(b"mp42", (b"mp42", b"mp41")), "audio/mp4", "audio", ".m4a"),
    ("mp4-isom", make_mp4(b"isom", (b"isom", b"iso2")), "audio/mp4", "audio", ".m4a"),
    ("mp4-dash", make_mp4(b"dash", (b"iso6", b"mp41")), "audio/mp4", "audio", ".m4a"),
    ("mp4-iso5-compat", make_mp4(b"iso5", (b"iso5", b"isom")), "audio/mp4", "audio", ".m4a"),
    ("wav", make_wav(), "audio/wav", "audio", ".wav"),
]
ACCEPTED_IDS = [case[0] for case in ACCEPTED]

# Names a client might send; none of them may change the verdict.
DECLARED_NAMES = ["", "voice-note.webm", "scan.pdf", "photo.png", "evil.exe", "../../x.svg"]

SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1">'
    b"<script>alert(document.cookie)</script></svg>"
)
REJECTED_TYPES: list[tuple[str, bytes]] = [
    ("svg", SVG),
    ("svg-bare", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    ("html", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"),
    ("html-bom", b"\xef\xbb\xbf<html><script>alert(1)</script></html>"),
    ("exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + filler()),
    ("elf", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + filler()),
    ("zip", b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + filler()),
    ("docx", b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml" + filler()),
    ("ole-doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + filler()),
    ("text", b"Hello, this is just some plain text.\n"),
    ("shell", b"#!/bin/sh\nrm -rf /\n"),
    ("rtf", b"{\\rtf1\\ansi hello}"),
    ("avi", riff(b"AVI ", b"LIST" + filler(40))),
    ("riff-short", b"RIFF\x00\x00"),
    ("aac-adts", b"\xff\xf1\x50\x80" + filler()),  # layer bits 00: not MPEG audio
    ("mpeg-reserved-version", b"\xff\xeb\x90\x64" + filler()),
    ("mpeg-bad-bitrate", b"\xff\xfb\xf0\x64" + filler()),
    ("mpeg-bad-rate", b"\xff\xfb\x9c\x64" + filler()),
    ("id3-bad-version", b"ID3\x09\x00\x00\x00\x00\x00\x00" + MP3_FRAME + filler()),
    ("heic", make_mp4(b"heic", (b"mif1", b"heic"))),
    ("avif", make_mp4(b"avif", (b"avif", b"mif1", b"miaf"))),
    ("quicktime", make_mp4(b"qt  ", (b"qt  ",))),
    ("ftyp-bad-size", b"\x00\x00\x00\x05ftypM4A \x00\x00\x00\x00" + filler()),
    ("bmp", b"BM" + filler()),
    ("tiff", b"II*\x00" + filler()),
    ("flac", b"fLaC\x00\x00\x00\x22" + filler()),
    ("jpeg-truncated-magic", b"\xff\xd8"),
    ("pdf-not-at-start", b"\n%PDF-1.7\n" + make_pdf()),
]
REJECTED_IDS = [case[0] for case in REJECTED_TYPES]


def pad_to(sample: bytes, size: int) -> bytes:
    """`sample` grown to exactly `size` bytes, keeping its head (and a PDF's %%EOF) intact."""
    if sample.startswith(b"%PDF-"):
        return sample[:-7] + b"\n" * (size - len(sample)) + sample[-7:]
    return sample + b"\x00" * (size - len(sample))


ONE_PER_CATEGORY = [
    ("document", make_pdf(), 10),
    ("image", make_png(), 10),
    ("audio", make_webm(), 25),
]


# --- recognising accepted kinds -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "data", "content_type", "category", "extension"), ACCEPTED, ids=ACCEPTED_IDS
)
@pytest.mark.parametrize("declared_name", DECLARED_NAMES)
def test_it_recognises_each_accepted_kind_whatever_the_name(
    label: str, data: bytes, content_type: str, category: str, extension: str, declared_name: str
) -> None:
    kind = check_upload(data, declared_name=declared_name)

    assert kind == FileKind(content_type, category, extension)


@pytest.mark.parametrize(
    ("label", "data", "content_type", "category", "extension"), ACCEPTED, ids=ACCEPTED_IDS
)
def test_it_sniffs_each_kind_from_the_first_bytes_alone(
    label: str, data: bytes, content_type: str, category: str, extension: str
) -> None:
    kind = sniff(data[:SNIFF_BYTES])

    assert kind is not None
    assert (kind.content_type, kind.category, kind.extension) == (
        content_type,
        category,
        extension,
    )


def test_it_ignores_bytes_past_the_sniff_window() -> None:
    assert sniff(make_png()[:SNIFF_BYTES] + SVG) == sniff(make_png())


def test_it_recognises_a_png_renamed_to_pdf_as_a_png() -> None:
    kind = check_upload(make_png(), declared_name="report.pdf")

    assert kind == PNG_KIND
    assert safe_filename("report.pdf", kind) == "report.png"


def test_it_treats_matroska_as_webm_audio() -> None:
    matroska = make_webm().replace(b"\x42\x82\x84webm", b"\x42\x82\x88matroska")

    assert check_upload(matroska) == WEBM_KIND


def test_it_accepts_a_pdf_with_trailing_whitespace_after_eof() -> None:
    assert check_upload(make_pdf() + b"\r\n" * 100) == PDF_KIND


def test_it_has_the_documented_limits() -> None:
    assert dict(LIMITS) == {"document": 10 * MIB, "image": 10 * MIB, "audio": 25 * MIB}
    with pytest.raises(TypeError):
        LIMITS["audio"] = 1  # type: ignore[index]


# --- rejecting ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("label", "data"), REJECTED_TYPES, ids=REJECTED_IDS)
@pytest.mark.parametrize("declared_name", ["", "photo.png", "voice.webm", "scan.pdf"])
def test_it_rejects_unsupported_types_whatever_the_name(
    label: str, data: bytes, declared_name: str
) -> None:
    assert sniff(data) is None
    with pytest.raises(RejectedFile) as caught:
        check_upload(data, declared_name=declared_name)

    assert caught.value.code == "unsupported_type"
    assert "PDF" in caught.value.reason


def test_it_rejects_an_empty_file() -> None:
    with pytest.raises(RejectedFile) as caught:
        check_upload(b"", declared_name="voice.webm")

    assert caught.value.code == "empty"
    assert caught.value.reason == '"voice.webm" is empty.'


@pytest.mark.parametrize("data", [b"%PDF-", b"%PDF-1.7\n", b"%PDF-1.7\n" + filler(5000)])
def test_it_rejects_a_header_only_pdf_as_malformed(data: bytes) -> None:
    with pytest.raises(RejectedFile) as caught:
        check_upload(data, declared_name="notes.pdf")

    assert caught.value.code == "malformed"
    assert "PDF" in caught.value.reason


def test_it_rejects_a_pdf_whose_eof_marker_is_not_near_the_end() -> None:
    truncated_after_eof = make_pdf() + b"1 0 obj\n" + filler(2000)

    with pytest.raises(RejectedFile) as caught:
        check_upload(truncated_after_eof)

    assert caught.value.code == "malformed"


@pytest.mark.parametrize(("category", "sample", "mib"), ONE_PER_CATEGORY)
def test_it_rejects_one_byte_over_each_limit(category: str, sample: bytes, mib: int) -> None:
    limit = LIMITS[category]
    assert limit == mib * MIB

    with pytest.raises(RejectedFile) as caught:
        check_upload(pad_to(sample, limit + 1), declared_name="big")

    assert caught.value.code == "too_large"
    assert f"{mib} MiB" in caught.value.reason


@pytest.mark.parametrize(("category", "sample", "mib"), ONE_PER_CATEGORY)
def test_it_accepts_a_file_exactly_at_the_limit(category: str, sample: bytes, mib: int) -> None:
    kind = check_upload(pad_to(sample, LIMITS[category]))

    assert kind.category == category


def test_it_names_the_file_in_the_reason_without_its_path_or_quotes() -> None:
    with pytest.raises(RejectedFile) as caught:
        check_upload(SVG, declared_name='C:\\temp\\"<i>x<i>".svg')

    assert caught.value.reason.startswith('"ixi.svg" is not a kind of file')


def test_it_says_this_file_when_there_is_no_usable_name() -> None:
    with pytest.raises(RejectedFile) as caught:
        check_upload(b"MZ", declared_name="\x00\x01")

    assert caught.value.reason.startswith("This file is not a kind of file")


def test_it_shortens_a_very_long_name_in_the_reason() -> None:
    with pytest.raises(RejectedFile) as caught:
        check_upload(b"MZ", declared_name="x" * 500 + ".exe")

    assert len(caught.value.reason) < 250


def test_it_keeps_code_and_reason_on_the_exception() -> None:
    error = RejectedFile("The file is empty.", "empty")

    assert isinstance(error, ValueError)
    assert str(error) == "The file is empty."
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object, round-tripped
    assert (copy.reason, copy.code) == ("The file is empty.", "empty")


def test_it_refuses_an_unknown_rejection_code() -> None:
    with pytest.raises(ValueError, match="unknown rejection code"):
        RejectedFile("Nope.", "nope")


# --- download names -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "expected"),
    [
        ("../../etc/passwd", PDF_KIND, "passwd.pdf"),
        ("/etc/passwd", PDF_KIND, "passwd.pdf"),
        ("..\\..\\windows\\system32\\config.sys", PDF_KIND, "config.pdf"),
        ("C:\\Users\\ana\\Documents\\notes.pdf", PDF_KIND, "notes.pdf"),
        ("\\\\server\\share\\scan.png", PNG_KIND, "scan.png"),
        ("C:notes.pdf", PDF_KIND, "Cnotes.pdf"),
        ("report.pdf", PDF_KIND, "report.pdf"),
        ("Report.PDF", PDF_KIND, "Report.pdf"),
        ("photo.jpeg", JPEG_KIND, "photo.jpg"),
        ("photo.exe", PNG_KIND, "photo.png"),
        ("song.mp3", WEBM_KIND, "song.webm"),
        ("voice.webm.exe", WEBM_KIND, "voice.webm.webm"),
        ("archive.tar.gz", PDF_KIND, "archive.tar.pdf"),
        ("notes", PDF_KIND, "notes.pdf"),
        ("Session 3.5", PDF_KIND, "Session 3.5.pdf"),
        ('my "best" photo.png', PNG_KIND, "my best photo.png"),
        ("it's mine.png", PNG_KIND, "its mine.png"),
        ("\u201csmart\u201d \u2018quotes\u2019.png", PNG_KIND, "smart quotes.png"),
        ("`tick`.png", PNG_KIND, "tick.png"),
        ("a\x00b\x1bc\x7f.pdf", PDF_KIND, "abc.pdf"),
        ("line\r\nbreak.pdf", PDF_KIND, "line break.pdf"),
        ("tab\there.pdf", PDF_KIND, "tab here.pdf"),
        ("invoice\u202egpj.exe", PNG_KIND, "invoicegpj.png"),
        ("zero\u200bwidth.pdf", PDF_KIND, "zerowidth.pdf"),
        ("a;b=c%20d.pdf", PDF_KIND, "ab=c20d.pdf"),
        ("<script>.pdf", PDF_KIND, "script.pdf"),
        ("  spaced   out  .pdf", PDF_KIND, "spaced out.pdf"),
        ("-rf.pdf", PDF_KIND, "rf.pdf"),
        ("trailing dots....pdf", PDF_KIND, "trailing dots.pdf"),
        ("CON.txt", PDF_KIND, "_CON.pdf"),
        ("lpt1", PDF_KIND, "_lpt1.pdf"),
        ("Sitzung \u2013 Mu\u0308ller.pdf", PDF_KIND, "Sitzung \u2013 M\u00fcller.pdf"),
        ("\u65e5\u8bb0.png", PNG_KIND, "\u65e5\u8bb0.png"),
        (
            "\u0434\u043d\u0435\u0432\u043d\u0438\u043a.webm",
            WEBM_KIND,
            "\u0434\u043d\u0435\u0432\u043d\u0438\u043a.webm",
        ),
    ],
)
def test_it_makes_a_safe_download_name(name: str, kind: FileKind, expected: str) -> None:
    assert safe_filename(name, kind) == expected


@pytest.mark.parametrize(
    "name",
    ["", " ", ".", "..", "...", "/", "\\", "../..", "C:\\", ".pdf", ".htaccess", "\x00\x1f",
     '""', "___", "- _ .", "\u202e", "dir/"],
)  # fmt: skip
def test_it_falls_back_to_attachment_when_nothing_usable_is_left(name: str) -> None:
    assert safe_filename(name, PDF_KIND) == "attachment.pdf"
    assert safe_filename(name, WEBM_KIND) == "attachment.webm"


def test_it_cuts_a_very_long_name_to_80_characters() -> None:
    name = "a" * 500 + ".pdf"

    result = safe_filename(name, PDF_KIND)

    assert result == "a" * 76 + ".pdf"
    assert len(result) == 80


def test_it_cuts_a_long_name_of_wide_characters_to_fit_file_systems() -> None:
    result = safe_filename("\U0001f600" * 200 + ".png", PNG_KIND)

    assert result.endswith(".png")
    assert len(result) <= 80
    assert len(result.encode("utf-8")) <= 255


def test_it_does_not_end_a_cut_name_with_a_dot_or_space() -> None:
    name = "a" * 74 + ". b" * 10

    result = safe_filename(name, WEBM_KIND)

    assert result == "a" * 74 + ".webm"


# --- properties ---------------------------------------------------------------------------------

MAGICS = [
    b"%PDF-",
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"GIF89a",
    b"RIFF\x00\x00\x00\x00WEBP",
    b"RIFF\x00\x00\x00\x00WAVE",
    b"\x1a\x45\xdf\xa3",
    b"OggS",
    b"ID3\x04\x00\x00",
    b"\xff\xfb",
    b"\x00\x00\x00\x20ftypM4A ",
    b"\x00\x00\x00\x18ftypiso5\x00\x00\x00\x00",
    b"MZ",
    b"<svg",
]

UPLOADS = st.one_of(
    st.binary(max_size=2048),
    st.builds(lambda magic, rest: magic + rest, st.sampled_from(MAGICS), st.binary(max_size=2048)),
)


@HYPOTHESIS
@given(data=UPLOADS, declared_name=st.text(max_size=200))
def test_it_either_accepts_or_rejects_arbitrary_bytes(data: bytes, declared_name: str) -> None:
    try:
        kind = check_upload(data, declared_name=declared_name)
    except RejectedFile as error:
        assert error.code in {"empty", "unsupported_type", "malformed", "too_large"}
        assert error.reason.endswith(".")
        assert "\n" not in error.reason
    else:
        assert isinstance(kind, FileKind)
        assert kind == sniff(data[:SNIFF_BYTES])
        assert len(data) <= LIMITS[kind.category]


@HYPOTHESIS
@given(head=st.binary(max_size=SNIFF_BYTES * 2))
def test_it_sniffs_any_prefix_without_error(head: bytes) -> None:
    for end in range(len(head) + 1):
        result = sniff(head[:end])
        assert result is None or isinstance(result, FileKind)


FORBIDDEN_IN_NAMES = set("/\\\"'`<>:|?*;%\u201c\u201d\u2018\u2019")


@HYPOTHESIS
@given(name=st.text(max_size=300), kind=st.sampled_from([PDF_KIND, PNG_KIND, WEBM_KIND]))
def test_it_always_makes_a_safe_download_name(name: str, kind: FileKind) -> None:
    result = safe_filename(name, kind)

    assert result.endswith(kind.extension)
    assert 0 < len(result) <= 80
    assert len(result.encode("utf-8")) <= 255
    assert not result.startswith((".", " ", "-"))
    assert not FORBIDDEN_IN_NAMES & set(result)
    assert all(unicodedata.category(ch)[0] != "C" for ch in result)
    assert all(not ch.isspace() or ch == " " for ch in result)
    assert result == safe_filename(result, kind)
