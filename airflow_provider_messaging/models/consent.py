"""Consent signals: opt-out / opt-in / help keywords in inbound texts, and vendor errors that mean
"this recipient opted out". Pure: no I/O.

Keywords are recognised on every inbound channel of every vendor, on top of the vendor's own action
field (Telesign sends ``end_user_action.action`` only for RCS and WhatsApp with keyword handling on;
Aerialink sends none): a text that is nothing but a keyword (any case, surrounding punctuation and
spaces ignored, ``OPT-OUT`` = ``OPTOUT``) gets the keyword's action. A vendor's own stop/start/help
action is kept as given.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

ConsentAction = Literal["stop", "start", "help"]

#: The industry list (CTIA / carrier opt-out rules), recognised for every vendor.
STOP_KEYWORDS = ("stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout")
START_KEYWORDS = ("start", "unstop", "yes")
HELP_KEYWORDS = ("help", "info")

#: Words a vendor documents on top of the industry list (Telesign's RCS/WhatsApp keyword handling:
#: vendor-docs/telesign-inbound-messages.txt). Aerialink documents none; it keeps the words our
#: Aerialink model recognised before this table existed.
VENDOR_KEYWORDS: dict[str, dict[str, ConsentAction]] = {
    "telesign": {"arrêt": "stop", "arret": "stop", "aide": "help", "contact": "help"},
    "aerialink": {"arrêt": "stop", "arret": "stop", "aide": "help", "contact": "help", "subscribe": "start"},
}

_COMMON: dict[str, ConsentAction] = {
    **dict.fromkeys(STOP_KEYWORDS, "stop"),
    **dict.fromkeys(START_KEYWORDS, "start"),
    **dict.fromkeys(HELP_KEYWORDS, "help"),
}

# Longest a keyword message can be once normalised; longer texts are never looked up.
_MAX_KEYWORD = 16
_JOINERS = re.compile(r"[\s\-_.]+")
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")


@dataclass(frozen=True)
class KeywordMatch:
    """A consent keyword found in an inbound text: its action and the keyword as normalised."""

    action: ConsentAction
    keyword: str


def normalize_keyword(text: str) -> str:
    """``" Opt-Out! "`` -> ``"optout"``: NFKC (fullwidth -> ASCII), case-folded, edge punctuation and
    inner joiners removed."""
    word = unicodedata.normalize("NFKC", text).strip().casefold()
    word = _EDGES.sub("", word)
    return _JOINERS.sub("", word)


def keywords_for(vendor: str | None = None) -> dict[str, ConsentAction]:
    """Every keyword recognised for ``vendor`` (the industry list plus the vendor's own words)."""
    return {**VENDOR_KEYWORDS.get((vendor or "").lower(), {}), **_COMMON}


def classify_keyword(text: str | None, vendor: str | None = None) -> KeywordMatch | None:
    """The consent keyword a whole inbound text is, or ``None`` ("stop texting me" is not a keyword)."""
    if not text or len(text) > 4 * _MAX_KEYWORD:
        return None
    word = normalize_keyword(text)
    if not word or len(word) > _MAX_KEYWORD:
        return None
    action = keywords_for(vendor).get(word)
    return KeywordMatch(action, word) if action else None


def inbound_action(
    vendor: str | None, action: str | None, keyword: str | None, text: str | None
) -> tuple[str | None, str | None]:
    """``(action, keyword)`` of an inbound message: the vendor's stop/start/help action if it gave one,
    else the keyword the text is, else what the vendor said (``generic`` or ``None``)."""
    if action in ("stop", "start", "help"):
        return action, keyword
    match = classify_keyword(text, vendor)
    if match is None:
        return action, keyword
    return match.action, match.keyword


# --------------------------------------------------------------------------------------------
# vendor errors that mean the recipient opted out
# --------------------------------------------------------------------------------------------

#: Codes each vendor documents for "blocked because the recipient opted out".
#: Telesign: status 510 "Message blocked by subscriber action or request" (Telesign-managed SMS
#: opt-out, support article "Can TeleSign handle SMS opt-outs for me?"). The omnichannel 3xxx table
#: names "subscriber" and "block" errors in 3045-3053 without saying which (vendor-notes.md section 2),
#: and 229 "blocked by your request" is a block you asked for, so neither is listed. Aerialink
#: documents no error-code list (vendor-notes.md section 4); its portal status BLOCKED does not say who
#: blocked. Add codes here when a vendor confirms them.
OPT_OUT_ERROR_CODES: dict[str, frozenset[str]] = {
    "telesign": frozenset({"510"}),
    "aerialink": frozenset(),
}

_OPT_OUT_WORDS = re.compile(
    r"\b(opted[ -]?out|unsubscribed|blocked by (the )?(subscriber|recipient|end[ -]user)|subscriber action)\b",
    re.IGNORECASE,
)


def is_opt_out_error(
    vendor: str,
    code: str | int | None,
    description: str | None = None,
    *,
    extra_codes: Mapping[str, Iterable[str | int]] | None = None,
) -> bool:
    """True when a vendor error says the recipient opted out / blocked the sender.

    Decided by the vendor's documented code (:data:`OPT_OUT_ERROR_CODES` plus ``extra_codes``, e.g.
    from configuration), or by the error text saying so plainly ("opted out", "unsubscribed",
    "blocked by subscriber ...").
    """
    key = (vendor or "").lower()
    if code is not None:
        wanted = str(code).strip().upper()
        known = {c.upper() for c in OPT_OUT_ERROR_CODES.get(key, frozenset())}
        known |= {str(c).strip().upper() for c in (extra_codes or {}).get(key, ())}
        if wanted in known:
            return True
    return bool(description and _OPT_OUT_WORDS.search(description))
