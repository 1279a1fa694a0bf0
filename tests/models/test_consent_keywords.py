"""Consent keywords in inbound texts, and vendor errors that mean "opted out". Pure."""

from __future__ import annotations

import pytest

from airflow_provider_messaging.models.consent import (
    KeywordMatch,
    classify_keyword,
    inbound_action,
    is_opt_out_error,
    normalize_keyword,
)

INDUSTRY = [
    *[(w, "stop") for w in ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT")],
    *[(w, "start") for w in ("START", "UNSTOP", "YES")],
    *[(w, "help") for w in ("HELP", "INFO")],
]


@pytest.mark.parametrize("vendor", ["telesign", "aerialink", "some_new_vendor", None])
@pytest.mark.parametrize(("word", "action"), INDUSTRY)
def test_the_industry_list_for_every_vendor(word: str, action: str, vendor: str | None) -> None:
    for text in (word, word.lower(), word.capitalize(), f"  {word}.  ", f"{word}!", f'"{word}"'):
        assert classify_keyword(text, vendor) == KeywordMatch(action, word.lower()), text  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Opt-Out", ("stop", "optout")),
        ("opt out", ("stop", "optout")),
        ("Stop All", ("stop", "stopall")),
        ("UN-STOP", ("start", "unstop")),
        ("\uff33\uff34\uff2f\uff30", ("stop", "stop")),  # fullwidth letters (an East Asian keyboard) fold to ASCII
        ("stop texting me", None),
        ("Please STOP", None),
        ("yes please", None),
        ("stopp", None),
        ("", None),
        (None, None),
        ("!!!", None),
        ("stop" * 100, None),
    ],
)
def test_only_a_whole_message_is_a_keyword(text: str | None, expected: tuple[str, str] | None) -> None:
    match = classify_keyword(text)
    assert (None if match is None else (match.action, match.keyword)) == expected


def test_vendor_words_on_top_of_the_industry_list() -> None:
    # Telesign documents arrêt/arret (stop) and aide/contact (help) for RCS and WhatsApp
    assert classify_keyword("Arrêt", "telesign") == KeywordMatch("stop", "arrêt")
    assert classify_keyword("ARRET", "telesign") == KeywordMatch("stop", "arret")
    assert classify_keyword("aide", "telesign") == KeywordMatch("help", "aide")
    assert classify_keyword("subscribe", "aerialink") == KeywordMatch("start", "subscribe")
    # ... and only for that vendor
    assert classify_keyword("arret", "some_new_vendor") is None
    assert classify_keyword("subscribe", "telesign") is None
    # composed and decomposed accents are the same word
    assert normalize_keyword("Arre\u0302t") == "arrêt"


@pytest.mark.parametrize(
    ("vendor_action", "vendor_keyword", "text", "expected"),
    [
        ("stop", "end", "end", ("stop", "end")),  # the vendor's own action is kept
        ("start", "start", "STOP", ("start", "start")),  # even when the text disagrees
        ("help", None, "info", ("help", None)),
        ("generic", None, "STOP", ("stop", "stop")),  # the vendor saw no keyword: ours applies
        (None, None, "Unsubscribe.", ("stop", "unsubscribe")),  # no action field at all (SMS, Viber, Aerialink)
        ("generic", None, "Thanks!", ("generic", None)),
        (None, None, "Thanks!", (None, None)),
        (None, None, None, (None, None)),
    ],
)
def test_inbound_action(
    vendor_action: str | None, vendor_keyword: str | None, text: str | None, expected: tuple[str | None, str | None]
) -> None:
    assert inbound_action("telesign", vendor_action, vendor_keyword, text) == expected


@pytest.mark.parametrize(
    ("vendor", "code", "description", "expected"),
    [
        ("telesign", 510, None, True),  # "Message blocked by subscriber action or request"
        ("telesign", "510", None, True),
        ("TELESIGN", " 510 ", None, True),
        ("telesign", 3000, "Delivered", False),
        ("telesign", 3003, "Delivery error", False),
        ("telesign", 229, "Message blocked by your request", False),  # a block the sender asked for
        ("telesign", 3050, "Subscriber absent", False),
        ("telesign", None, "Message blocked by subscriber action or request", True),
        ("aerialink", "BLOCKED", None, False),  # does not say who blocked
        ("aerialink", "21610", "Attempt to send to unsubscribed recipient", True),
        ("aerialink", "E1", "Recipient has opted out", True),
        ("aerialink", "E2", "recipient opted-out of this sender", True),
        ("aerialink", None, None, False),
    ],
)
def test_is_opt_out_error(vendor: str, code: str | int | None, description: str | None, expected: bool) -> None:
    assert is_opt_out_error(vendor, code, description) is expected


def test_extra_opt_out_codes_from_configuration() -> None:
    assert not is_opt_out_error("aerialink", "BLOCKED")
    assert is_opt_out_error("aerialink", "blocked", extra_codes={"aerialink": ["BLOCKED"]})
    assert not is_opt_out_error("telesign", "BLOCKED", extra_codes={"aerialink": ["BLOCKED"]})
    assert is_opt_out_error("telesign", 3999, extra_codes={"telesign": [3999]})
