"""Shared helpers: timestamps, phone and URL checks, wire dumps, error paths."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from airflow_provider_messaging.exceptions import PayloadValidationError
from airflow_provider_messaging.models import aerialink as al
from airflow_provider_messaging.models import telesign as ts
from airflow_provider_messaging.models.base import to_wire, validate
from airflow_provider_messaging.models.types import (
    is_possible_phone,
    normalize_recipient,
    parse_vendor_timestamp,
    try_parse_timestamp,
)

UTC = timezone.utc


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2020-05-04 22:07:01:226", datetime(2020, 5, 4, 22, 7, 1, 226000, tzinfo=UTC)),
        ("2020-05-04 22:05:00.325", datetime(2020, 5, 4, 22, 5, 0, 325000, tzinfo=UTC)),
        ("2023-10-31T14:47:10.490130Z", datetime(2023, 10, 31, 14, 47, 10, 490130, tzinfo=UTC)),
        ("2030-03-03T15:00:00.000+01:00", datetime(2030, 3, 3, 14, 0, tzinfo=UTC)),
        ("2030-03-03T15:00:00-05:00", datetime(2030, 3, 3, 20, 0, tzinfo=UTC)),
        ("2030-03-03T15:00:00Z", datetime(2030, 3, 3, 15, 0, tzinfo=UTC)),
        ("2030-03-03T15:00:00", datetime(2030, 3, 3, 15, 0, tzinfo=UTC)),
    ],
)
def test_parse_vendor_timestamp(raw: str, expected: datetime) -> None:
    parsed = parse_vendor_timestamp(raw)
    assert parsed == expected
    assert parsed.tzinfo == UTC


@pytest.mark.parametrize("raw", ["", "yesterday", "2020-05-04", "2020-13-04 22:07:01", "04/05/2020 22:07"])
def test_parse_vendor_timestamp_rejects(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_vendor_timestamp(raw)
    assert try_parse_timestamp(raw) is None


@pytest.mark.parametrize("number", ["15558675309", "+15558675309", "+1 555-867-5309", "447911123456", "381641234567"])
def test_possible_phone_numbers(number: str) -> None:
    assert is_possible_phone(number)


@pytest.mark.parametrize("number", ["CONVEY", "12", "1555867530912345678", "phone", "", "+"])
def test_impossible_phone_numbers(number: str) -> None:
    assert not is_possible_phone(number)


def test_recipient_is_normalised_to_digits() -> None:
    msg = al.RcsText.parse(
        {"messageType": "RCS_TEXT", "source": "CONVEY", "destination": "+1 555-987-6543", "messageText": "hi"}
    )
    assert msg.destination == "15559876543"


def _sms_to(number: str) -> dict[str, object]:
    return {
        "channels": [{"channel": "sms"}],
        "phone_number": number,
        "message": {"sms": {"template": "text", "parameters": {"text": "hi"}}},
        "message_type": "ARN",
    }


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("15558675309", "15558675309"),
        ("+1 (555) 867-5309", "15558675309"),
        (" +1.555.867.5309 ", "15558675309"),
        ("1\u00a0555\u00a0867\u00a05309", "15558675309"),  # no-break spaces from a spreadsheet
        ("12345", "12345"),  # an SMS short code is a number too
        # not phone numbers: kept as ids (stripped, lower-cased), never reduced to digits
        ("CONVEY", "convey"),
        (" Alice@Example.COM ", "alice@example.com"),
        ("1-800-FLOWERS", "1-800-flowers"),
        ("1+5558675309", "1+5558675309"),  # '+' only in front
        ("++15558675309", "++15558675309"),
        ("tel:+15558675309", "tel:+15558675309"),
        (
            "\uff11\uff15\uff15\uff15\uff18\uff16\uff17\uff15\uff13\uff10\uff19",
            "\uff11\uff15\uff15\uff15\uff18\uff16\uff17\uff15\uff13\uff10\uff19",
        ),
        ("15558675309\u00b2", "15558675309\u00b2"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_recipient_keys_numbers_by_ascii_digits_and_ids_as_given(raw: str | None, key: str) -> None:
    assert normalize_recipient(raw) == key


@pytest.mark.parametrize(
    "number",
    [
        "\uff11\uff15\uff15\uff15\uff18\uff16\uff17\uff15\uff13\uff10\uff19",  # fullwidth digits
        "\u0661\u0665\u0665\u0665\u0668\u0666\u0667\u0665\u0663\u0660\u0669",  # Arabic-Indic digits
        "1+5558675309",
        "++15558675309",
        "1-800-FLOWERS",
    ],
)
def test_non_ascii_digits_and_inner_plus_are_not_phone_numbers(number: str) -> None:
    # The vendors take "digits with country code" (15558675309); libphonenumber would accept the first two.
    assert not is_possible_phone(number)
    with pytest.raises(PayloadValidationError) as info:
        ts.OmnichannelRequest.parse(_sms_to(number))
    assert info.value.fields == ["phone_number"]
    assert "digits only" in info.value.errors[0].message


@given(st.text(alphabet="0123456789 +-().abcXYZ@\u00a0\uff11", max_size=20))
def test_a_valid_recipient_is_sent_as_its_store_key(raw: str) -> None:
    """One normaliser: what the models send is what the store, opt-outs and reports key the recipient by."""
    key = normalize_recipient(raw)
    assert (key.isascii() and key.isdigit()) or key == raw.strip().lower()
    if is_possible_phone(raw):
        sent = ts.OmnichannelRequest.parse(_sms_to(raw)).phone_number
        assert sent == key and key.isascii() and key.isdigit()


def test_url_is_kept_exactly_as_given() -> None:
    data = {
        "type": "OPEN_URL",
        "title": "t",
        "postbackData": "p",
        "url": "https://example.com",
        "application": "BROWSER",
        "webviewViewMode": "FULL",
    }
    choice = al.OpenUrlChoice.parse(data)
    assert to_wire(choice)["url"] == "https://example.com"  # no trailing slash added


@pytest.mark.parametrize(
    "url", ["example.com/info", "not a url", "/relative", "https://example.com/a b", "https://example.com/caf\u00e9"]
)
def test_invalid_urls_fail_at_their_path(url: str) -> None:
    with pytest.raises(PayloadValidationError) as info:
        al.OpenUrlChoice.parse(
            {
                "type": "OPEN_URL",
                "title": "t",
                "postbackData": "p",
                "url": url,
                "application": "BROWSER",
                "webviewViewMode": "FULL",
            }
        )
    assert info.value.fields == ["url"]
    assert "valid absolute URI" in info.value.errors[0].message


def test_validate_accepts_json_text_and_instances() -> None:
    text = '{"type": "REPLY", "title": "Yes", "postbackData": "y"}'
    choice = validate(al.ReplyChoice, text)
    assert validate(al.ReplyChoice, choice) is choice


def test_payload_validation_error_is_a_value_error_with_model_name() -> None:
    with pytest.raises(ValueError, match="Invalid ReplyChoice"):
        al.ReplyChoice.parse({"type": "REPLY"})


def test_direct_construction_still_raises_pydantic_error() -> None:
    with pytest.raises(ValidationError):
        al.ReplyChoice(type="REPLY", title="x" * 26, postbackData="p")


def test_to_wire_uses_aliases_and_drops_none() -> None:
    choice = al.ShowLocationChoice(type="SHOW_LOCATION", title="Here", postback_data="loc", latitude=1.5, longitude=2)
    assert to_wire(choice) == {
        "type": "SHOW_LOCATION",
        "title": "Here",
        "postbackData": "loc",
        "latitude": 1.5,
        "longitude": 2.0,
    }


@given(st.text(min_size=26, max_size=60))
def test_any_title_over_25_characters_fails_at_its_path(title: str) -> None:
    card = {
        "title": "Card",
        "description": "d",
        "height": "SHORT",
        "mediaUrl": "https://e.com/m.jpg",
        "thumbnailUrl": "https://e.com/t.jpg",
        "filenameOverride": "m.jpg",
        "choices": [
            {"type": "REPLY", "title": "ok", "postbackData": "p"},
            {"type": "REPLY", "title": title, "postbackData": "p"},
        ],
    }
    with pytest.raises(PayloadValidationError) as info:
        al.RcsCarousel.parse(
            {"messageType": "RCS_CAROUSEL", "source": "CONVEY", "destination": "15559876543", "cards": [card]}
        )
    assert info.value.fields == ["cards.0.choices.1.title"]
    assert info.value.errors[0].message == "'title' must be at most 25 characters"


@given(st.text(min_size=1, max_size=25))
def test_any_title_up_to_25_characters_passes(title: str) -> None:
    assert al.ReplyChoice.parse({"type": "REPLY", "title": title, "postbackData": "p"}).title == title
