"""SMS encoding and segment counts (3GPP TS 23.038 / GSM 03.38). Pure: no I/O.

A text made only of GSM 03.38 characters is sent in GSM-7: 160 septets in one SMS, 153 per part of a
concatenated SMS (the user data header takes 7). Characters of the extension table (``€``, ``[``,
``{``, ...) are sent as ESC + character and cost two septets; the pair is never split across parts.
Any other character forces UCS-2 for the WHOLE message: 70 UTF-16 code units in one SMS, 67 per part,
and a character outside the Basic Multilingual Plane (most emoji) takes two code units, which a part
boundary never splits. National language shift tables are not assumed (few carriers honour them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Encoding = Literal["GSM-7", "UCS-2"]

#: The GSM 03.38 default alphabet, in table order (0x00-0x7F). 0x1B is the escape to the extension
#: table, not a character, so it is left out: a text containing ESC cannot be sent in GSM-7.
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ"  # 0x00-0x1A
    "ÆæßÉ"  # 0x1C-0x1F
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: The extension table: each costs ESC + the character, two septets.
GSM7_EXTENSION = "\f^{}\\[~]|€"

_BASIC = frozenset(GSM7_BASIC)
_EXTENSION = frozenset(GSM7_EXTENSION)

GSM7_SINGLE = 160
GSM7_PART = 153
UCS2_SINGLE = 70
UCS2_PART = 67


@dataclass(frozen=True)
class SegmentInfo:
    """How an SMS text is encoded and how many messages (parts) it is billed as."""

    encoding: Encoding
    characters: int  # code points of the text
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    per_segment: int  # units one part can hold for this length: 160/153 or 70/67
    extension_characters: int = 0  # GSM-7 characters that cost two septets
    #: the distinct characters that forced UCS-2, in order of first appearance
    ucs2_characters: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "encoding": self.encoding,
            "characters": self.characters,
            "units": self.units,
            "segments": self.segments,
            "per_segment": self.per_segment,
            "extension_characters": self.extension_characters,
            "ucs2_characters": list(self.ucs2_characters),
        }


def gsm7_cost(char: str) -> int | None:
    """Septets one character costs in GSM-7 (1 or 2), or ``None`` when GSM-7 cannot carry it."""
    if char in _BASIC:
        return 1
    if char in _EXTENSION:
        return 2
    return None


def is_gsm7(text: str) -> bool:
    """True when every character of ``text`` is in the GSM 03.38 basic or extension table."""
    return all(c in _BASIC or c in _EXTENSION for c in text)


def non_gsm7_characters(text: str) -> tuple[str, ...]:
    """The distinct characters of ``text`` GSM-7 cannot carry (they force UCS-2), in order of appearance."""
    return tuple(dict.fromkeys(c for c in text if c not in _BASIC and c not in _EXTENSION))


def _pack(costs: list[int], single: int, part: int) -> int:
    """Parts needed for items of the given unit costs; an item is never split across two parts."""
    total = sum(costs)
    if total <= single:
        return 1
    parts, used = 1, 0
    for cost in costs:
        if used + cost > part:
            parts, used = parts + 1, 0
        used += cost
    return parts


def analyze(text: str) -> SegmentInfo:
    """Encoding, size and segment count of one SMS text. An empty text is one (empty) message."""
    forcing = non_gsm7_characters(text)
    if not forcing:
        costs = [1 if c in _BASIC else 2 for c in text]
        segments = _pack(costs, GSM7_SINGLE, GSM7_PART)
        return SegmentInfo(
            encoding="GSM-7",
            characters=len(text),
            units=sum(costs),
            segments=segments,
            per_segment=GSM7_SINGLE if segments == 1 else GSM7_PART,
            extension_characters=sum(1 for c in costs if c == 2),
        )
    costs = [2 if ord(c) > 0xFFFF else 1 for c in text]  # UTF-16: astral characters are surrogate pairs
    segments = _pack(costs, UCS2_SINGLE, UCS2_PART)
    return SegmentInfo(
        encoding="UCS-2",
        characters=len(text),
        units=sum(costs),
        segments=segments,
        per_segment=UCS2_SINGLE if segments == 1 else UCS2_PART,
        ucs2_characters=forcing,
    )
