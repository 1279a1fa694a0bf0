"""SMS encoding and segment counts against the GSM 03.38 character set (3GPP TS 23.038)."""

from __future__ import annotations

import pytest

from airflow_provider_messaging.models.segments import analyze, gsm7_cost, is_gsm7, non_gsm7_characters

# The default alphabet as code points by GSM position 0x00-0x7F, written out from the 3GPP table
# (independent of the module's string). 0x1B is the escape to the extension table, not a character.
GSM_BASIC_CODEPOINTS = [
    0x40, 0xA3, 0x24, 0xA5, 0xE8, 0xE9, 0xF9, 0xEC, 0xF2, 0xC7, 0x0A, 0xD8, 0xF8, 0x0D, 0xC5, 0xE5,
    0x394, 0x5F, 0x3A6, 0x393, 0x39B, 0x3A9, 0x3A0, 0x3A8, 0x3A3, 0x398, 0x39E, None, 0xC6, 0xE6, 0xDF, 0xC9,
    0x20, 0x21, 0x22, 0x23, 0xA4, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x2D, 0x2E, 0x2F,
    *range(0x30, 0x3A), 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F,
    0xA1, *range(0x41, 0x5B), 0xC4, 0xD6, 0xD1, 0xDC, 0xA7,
    0xBF, *range(0x61, 0x7B), 0xE4, 0xF6, 0xF1, 0xFC, 0xE0,
]  # fmt: skip
# The extension table (ESC + position): FF, ^ { } \ [ ~ ] | and the euro sign.
GSM_EXTENSION_CODEPOINTS = [0x0C, 0x5E, 0x7B, 0x7D, 0x5C, 0x5B, 0x7E, 0x5D, 0x7C, 0x20AC]

BASIC = [chr(c) for c in GSM_BASIC_CODEPOINTS if c is not None]
EXTENSION = [chr(c) for c in GSM_EXTENSION_CODEPOINTS]


def test_the_table_is_complete() -> None:
    assert len(GSM_BASIC_CODEPOINTS) == 128 and len(BASIC) == 127
    assert len(set(BASIC) | set(EXTENSION)) == 137


@pytest.mark.parametrize("char", BASIC, ids=[f"U+{ord(c):04X}" for c in BASIC])
def test_every_basic_character_is_one_septet(char: str) -> None:
    assert gsm7_cost(char) == 1
    assert analyze(char * 160).segments == 1
    info = analyze(char * 161)
    assert (info.encoding, info.units, info.segments, info.per_segment) == ("GSM-7", 161, 2, 153)


@pytest.mark.parametrize("char", EXTENSION, ids=[f"U+{ord(c):04X}" for c in EXTENSION])
def test_every_extension_character_counts_double(char: str) -> None:
    assert gsm7_cost(char) == 2
    info = analyze(char * 80)
    assert (info.encoding, info.units, info.segments, info.extension_characters) == ("GSM-7", 160, 1, 80)
    info = analyze(char * 81)  # 162 septets; a part holds 76 pairs (152 septets), never half a pair
    assert (info.units, info.segments) == (162, 2)


@pytest.mark.parametrize(
    "char",
    ["`", "ç", "\u2019", "\u201c", "ж", "é\u0301", "\x1b", "\t", "😀", "ä\u200b"],
    ids=[
        "backtick",
        "c-cedilla-small",
        "curly-quote",
        "curly-double",
        "cyrillic",
        "combining",
        "esc",
        "tab",
        "emoji",
        "zwsp",
    ],
)
def test_characters_outside_gsm_force_ucs2(char: str) -> None:
    text = "Your code is 1234 " + char
    assert not is_gsm7(text)
    info = analyze(text)
    assert info.encoding == "UCS-2"
    assert set(info.ucs2_characters) <= set(char) and info.ucs2_characters


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 1),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("a" * 158 + "€", "GSM-7", 160, 1),
        ("a" * 159 + "€", "GSM-7", 161, 2),
        # 306 septets would fit two parts, but the euro sign's pair cannot straddle parts 1 and 2
        ("a" * 152 + "€" + "a" * 152, "GSM-7", 306, 3),
        ("ж" * 70, "UCS-2", 70, 1),
        ("ж" * 71, "UCS-2", 71, 2),
        ("ж" * 134, "UCS-2", 134, 2),
        ("ж" * 135, "UCS-2", 135, 3),
        ("😀" * 35, "UCS-2", 70, 1),  # each emoji is two UTF-16 code units
        ("😀" * 36, "UCS-2", 72, 2),
        ("😀" * 67, "UCS-2", 134, 3),  # 33 pairs per 67-unit part: 33 + 33 + 1
        # 134 units would fit two parts, but the surrogate pair cannot straddle them
        ("ж" * 66 + "😀" + "ж" * 66, "UCS-2", 134, 3),
    ],
)
def test_segment_counts(text: str, encoding: str, units: int, segments: int) -> None:
    info = analyze(text)
    assert (info.encoding, info.units, info.segments) == (encoding, units, segments)
    assert info.characters == len(text)


def test_one_stray_character_switches_the_whole_message() -> None:
    plain = "Your appointment is tomorrow at 10:00. Reply YES to confirm or call us at +1 555 0100."
    assert analyze(plain).encoding == "GSM-7" and analyze(plain).segments == 1
    curly = plain.replace("Reply", "Reply \u201cYES\u201d or") + " Thanks \U0001f642"
    info = analyze(curly)
    assert (info.encoding, info.segments) == ("UCS-2", 2)
    assert info.ucs2_characters == ("\u201c", "\u201d", "\U0001f642")
    assert non_gsm7_characters(curly) == info.ucs2_characters
    assert info.to_dict() == {
        "encoding": "UCS-2",
        "characters": len(curly),
        "units": len(curly) + 1,  # the emoji is a surrogate pair
        "segments": 2,
        "per_segment": 67,
        "extension_characters": 0,
        "ucs2_characters": ["\u201c", "\u201d", "\U0001f642"],
    }
