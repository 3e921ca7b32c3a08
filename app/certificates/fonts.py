"""The certificates' compact font: Debian's Noto Serif CJK SC cut down to the common characters, made by HarfBuzz.

WeasyPrint embeds a subset of each font it uses but keeps the glyph IDs, so the embedded font carries an empty slot
for every glyph below the highest one used. Noto Serif CJK has 65,535 glyphs and the SC face's own punctuation
(：，。) sits near the top, so every certificate paid for ~63,000 slots: about 75 ms of subsetting and 230 KB of
font in each file. The compact font holds GB 2312 (the 6,763 common hanzi and its symbols) and the Latin, general
punctuation, CJK symbol and full-width blocks, ~14,000 glyphs in all: ~10 ms and ~25 KB a face. pdf.py declares
it as "Yiwang Serif SC" to every certificate; a stylesheet that names it first and the full system font second
still prints a rarer character (a 生僻字 in a name), from the full font.

Text shapes to the same glyphs as with the full font for `lang="zh-CN"`: the layout features kept are HarfBuzz's
horizontal defaults, `locl` included (it picks the mainland forms of some punctuation); only the vertical ones are
dropped. The files are made from whatever font fontconfig finds, once, into YIWANG_VAR_DIR/cache/fonts, and made
again when the system font changes."""

from __future__ import annotations

import ctypes
import functools
import io
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from app.settings import get_settings

log = logging.getLogger("yiwang.certificates")

FAMILY = "Yiwang Serif SC"  # the name the certificate stylesheets use
SOURCE_FAMILY = "Noto Serif CJK SC"
FORMAT_VERSION = 2  # bump when the character set, the features or the making below change
RANGES = (
    (0x20, 0x7E), (0xA0, 0x17F),  # ASCII, Latin-1, Latin Extended-A
    (0x2000, 0x206F), (0x2100, 0x21FF),  # general punctuation, letterlike symbols, number forms, arrows
    (0x2460, 0x257F), (0x25A0, 0x25FF),  # enclosed alphanumerics, box drawing, geometric shapes (◌ for lone marks)
    (0x3000, 0x312F), (0x3200, 0x32FF),  # CJK symbols and punctuation, kana, bopomofo, enclosed CJK
    (0xFE30, 0xFE4F), (0xFF00, 0xFFEF),  # CJK compatibility forms, half- and full-width forms
)
FEATURES = ("abvm", "blwm", "ccmp", "locl", "mark", "mkmk", "rlig", "calt", "clig", "curs", "dist", "kern", "liga",
            "rclt")
HB_SUBSET_SETS_LAYOUT_FEATURE_TAG = 6


@dataclass(frozen=True)
class Face:
    file_name: str  # in font_dir(), and at pdf.FONT_BASE for WeasyPrint
    weight: str  # CSS and fontconfig weight


FACES = (Face("serif-sc-regular.otf", "normal"), Face("serif-sc-bold.otf", "bold"))


def font_dir() -> Path:
    return get_settings().var_dir / "cache" / "fonts"


def gb2312() -> set[int]:
    """The code points of GB 2312 (row 0xA1–0xF7, cell 0xA1–0xFE)."""
    out = set()
    for row in range(0xA1, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                out.add(ord(bytes((row, cell)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return out


def repertoire() -> list[int]:
    chars = gb2312()
    for first, last in RANGES:
        chars.update(range(first, last + 1))
    return sorted(chars)


# --- fontconfig and HarfBuzz through ctypes (WeasyPrint loads the same libraries) ------------------------------

def _lib(name: str, signatures: dict[str, tuple[object, list[object]]]) -> ctypes.CDLL:
    lib = ctypes.CDLL(name)
    for fn, (restype, argtypes) in signatures.items():
        getattr(lib, fn).restype = restype
        getattr(lib, fn).argtypes = argtypes
    return lib


PTR, UINT, INT, STR = ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_char_p


@functools.cache
def _fontconfig() -> ctypes.CDLL:
    return _lib("libfontconfig.so.1", {
        "FcNameParse": (PTR, [STR]),
        "FcConfigSubstitute": (INT, [PTR, PTR, INT]),
        "FcDefaultSubstitute": (None, [PTR]),
        "FcFontMatch": (PTR, [PTR, PTR, ctypes.POINTER(INT)]),
        "FcPatternGetString": (INT, [PTR, STR, INT, ctypes.POINTER(STR)]),
        "FcPatternGetInteger": (INT, [PTR, STR, INT, ctypes.POINTER(INT)]),
        "FcPatternDestroy": (None, [PTR]),
    })


@functools.cache
def _harfbuzz() -> tuple[ctypes.CDLL, ctypes.CDLL]:
    hb = _lib("libharfbuzz.so.0", {
        "hb_blob_create_from_file_or_fail": (PTR, [STR]),
        "hb_blob_destroy": (None, [PTR]),
        "hb_blob_get_data": (PTR, [PTR, ctypes.POINTER(UINT)]),
        "hb_face_create": (PTR, [PTR, UINT]),
        "hb_face_destroy": (None, [PTR]),
        "hb_face_reference_blob": (PTR, [PTR]),
        "hb_set_add": (None, [PTR, UINT]),
        "hb_set_clear": (None, [PTR]),
        "hb_tag_from_string": (UINT, [STR, INT]),
        "hb_version_string": (STR, []),
    })
    subset = _lib("libharfbuzz-subset.so.0", {
        "hb_subset_input_create_or_fail": (PTR, []),
        "hb_subset_input_destroy": (None, [PTR]),
        "hb_subset_input_unicode_set": (PTR, [PTR]),
        "hb_subset_input_set": (PTR, [PTR, INT]),
        "hb_subset_or_fail": (PTR, [PTR, PTR]),
    })
    return hb, subset


def system_face(weight: str) -> tuple[Path, int]:
    """The file and face index fontconfig gives for Noto Serif CJK SC in this weight."""
    fc = _fontconfig()
    pattern = fc.FcNameParse(f"{SOURCE_FAMILY}:weight={'bold' if weight == 'bold' else 'regular'}".encode())
    fc.FcConfigSubstitute(None, pattern, 0)
    fc.FcDefaultSubstitute(pattern)
    result = INT()
    match = fc.FcFontMatch(None, pattern, ctypes.byref(result))
    fc.FcPatternDestroy(pattern)
    if not match:
        raise LookupError(f"fontconfig finds no {SOURCE_FAMILY}")
    try:
        families, n, value = [], 0, STR()
        while fc.FcPatternGetString(match, b"family", n, ctypes.byref(value)) == 0:
            families.append(value.value.decode())
            n += 1
        if SOURCE_FAMILY not in families:
            raise LookupError(f"{SOURCE_FAMILY} is not installed (fontconfig offers {families[:1]})")
        index = INT()
        fc.FcPatternGetString(match, b"file", 0, ctypes.byref(value))
        fc.FcPatternGetInteger(match, b"index", 0, ctypes.byref(index))
        return Path(value.value.decode()), index.value
    finally:
        fc.FcPatternDestroy(match)


def subset_face(path: Path, index: int, chars: list[int]) -> bytes:
    """The face cut down to these characters (and the glyphs the kept features reach from them), new glyph IDs."""
    hb, hbs = _harfbuzz()
    blob = hb.hb_blob_create_from_file_or_fail(str(path).encode())
    if not blob:
        raise OSError(f"HarfBuzz cannot read {path}")
    face = hb.hb_face_create(blob, index)
    source = hbs.hb_subset_input_create_or_fail()
    try:
        unicodes = hbs.hb_subset_input_unicode_set(source)
        for ch in chars:
            hb.hb_set_add(unicodes, ch)
        features = hbs.hb_subset_input_set(source, HB_SUBSET_SETS_LAYOUT_FEATURE_TAG)
        hb.hb_set_clear(features)
        for tag in FEATURES:
            hb.hb_set_add(features, hb.hb_tag_from_string(tag.encode(), -1))
        result = hbs.hb_subset_or_fail(face, source)
        if not result:
            raise RuntimeError(f"HarfBuzz could not subset {path}")
        out = hb.hb_face_reference_blob(result)
        length = UINT()
        data = ctypes.string_at(hb.hb_blob_get_data(out, ctypes.byref(length)), length.value)
        hb.hb_blob_destroy(out)
        hb.hb_face_destroy(result)
        return data
    finally:
        hbs.hb_subset_input_destroy(source)
        hb.hb_face_destroy(face)
        hb.hb_blob_destroy(blob)


def identity_cids(data: bytes) -> bytes:
    """The font with CID = glyph ID again. Noto CJK is CID-keyed and, in full, its CIDs are its glyph IDs;
    HarfBuzz renumbers the glyphs but keeps their old CIDs. WeasyPrint writes glyph IDs where a PDF expects CIDs
    (Identity-H), so a viewer that looks CIDs up in the font's charset, as the PDF specification has it, would
    draw the wrong glyphs. Only the CFF table changes; no outline is touched."""
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(data), lazy=True, recalcBBoxes=False, recalcTimestamp=False)
    top = font["CFF "].cff.topDictIndex[0]
    if not hasattr(top, "ROS"):  # not CID-keyed: glyphs are found by glyph ID already
        return data
    old = list(top.charset)
    new = [".notdef", *(f"cid{gid:05d}" for gid in range(1, len(old)))]
    renamed = dict(zip(old, new, strict=True))
    top.CharStrings.charStrings = {renamed[name]: glyph for name, glyph in top.CharStrings.charStrings.items()}
    top.charset = new
    font.setGlyphOrder(new)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _stamp(path: Path, index: int) -> dict[str, object]:
    st = path.stat()
    hb, _subset = _harfbuzz()
    return {"source": str(path), "index": index, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "harfbuzz": hb.hb_version_string().decode(), "format": FORMAT_VERSION}


def _write(path: Path, data: bytes) -> None:
    """Into place in one step: other processes may be reading the old file or writing the same one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as fp:
        fp.write(data)
    os.replace(tmp, path)


def ensure_fonts() -> list[Face]:
    """The compact faces that are ready in font_dir(), made now if missing or made from another system font.
    A face that cannot be made is left out (logged): the certificates then print in the full system font."""
    folder = font_dir()
    folder.mkdir(parents=True, exist_ok=True)
    ready = []
    chars: list[int] | None = None
    for face in FACES:
        target, stamp_file = folder / face.file_name, folder / f"{face.file_name}.json"
        try:
            source, index = system_face(face.weight)
            stamp = _stamp(source, index)
            current = json.loads(stamp_file.read_text()) if stamp_file.exists() and target.exists() else None
            if current != stamp:
                chars = chars or repertoire()
                _write(target, identity_cids(subset_face(source, index, chars)))
                _write(stamp_file, json.dumps(stamp).encode())
                log.info("certificate font %s made from %s (face %d)", face.file_name, source, index)
            ready.append(face)
        except Exception:  # whatever the font or the libraries do, certificates must still print
            log.exception("certificate font %s: not made, the full system font stands in", face.file_name)
    return ready
