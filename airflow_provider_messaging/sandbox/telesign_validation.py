"""Validation of ``POST /v1/omnichannel`` bodies, written from the Telesign docs and status-code table.

Each problem is a ``(code, description)`` pair with Telesign's code and wording. The sandbox is
stricter than the vendor in one place: an unknown channel name (also an upper-case one) is refused
(3100) instead of being skipped to the next channel, so a typo surfaces at once.

Templates the docs detail (``rcs.dial_action``, ``rcs.url_action``, ``whatsapp.file``, ``sms.text``) are
checked parameter by parameter; any other template on any channel is accepted when it has the shape of
one (a name and a ``parameters`` object), because an account may have templates the docs do not show.
"""

from __future__ import annotations

import json
from typing import Any

from .urls import is_complete_phone, is_msisdn, is_url

MAX_BODY_BYTES = 10 * 1024
MESSAGE_TYPES = ("ARN", "MKT", "OTP")
# Every Messaging channel the docs name (SMS, MMS, RCS, Viber, WhatsApp and email).
CHANNELS = ("sms", "mms", "rcs", "whatsapp", "viber", "email")
# channel -> template -> required parameters, for the templates the vendor pages detail
TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    "rcs": {
        "dial_action": ("dial_payload", "dial_text", "phone_number_to_dial", "text"),
        "url_action": ("text", "url", "url_id", "url_text"),
    },
    "sms": {"text": ("text",)},
    "whatsapp": {"file": ("url",)},
}
URL_PARAMETERS = ("url",)  # "A fully-qualified URL."

Problem = tuple[int, str]


def parse_body(raw: bytes) -> tuple[dict[str, Any] | None, Problem | None]:
    """The JSON object, or the problem that stops everything (size 3116, bad JSON 3110)."""
    if len(raw) > MAX_BODY_BYTES:
        return None, (3116, "Payload limit size exceeded - Allowed payload size is limited to 10KB")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None, (3110, "Invalid request")
    if not isinstance(data, dict):
        return None, (3110, "Invalid request")
    return data, None


def validate_omnichannel(data: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    names = _check_channels(data.get("channels"), problems)

    phone = data.get("phone_number")
    if phone is None or phone == "":
        problems.append((3302, "Missing parameter phone_number"))
    elif not is_msisdn(phone):
        problems.append((3101, f"Invalid value for parameter phone_number: {phone}"))

    message = data.get("message")
    if message is None:
        problems.append((3303, "Missing parameter message"))
    elif not isinstance(message, dict):
        problems.append((3108, "Invalid value for parameter message"))
    else:
        for name in names:
            _check_channel_message(name, message.get(name), problems)

    message_type = data.get("message_type")
    if message_type is None or message_type == "":
        problems.append((3304, "Missing parameter message_type"))
    elif message_type not in MESSAGE_TYPES:
        problems.append((3102, f"Invalid value for parameter message_type: {message_type}"))

    external_id = data.get("external_id")
    if external_id is not None and (
        not isinstance(external_id, str) or len(external_id) > 100 or not external_id.isascii()
    ):
        problems.append((3103, f"Unsupported value for parameter external_id: {external_id}"))

    if "callback_url" in data and not is_url(data["callback_url"]):
        problems.append((3106, f"Invalid value for parameter callback_url: {data['callback_url']}"))
    return problems


def _check_channels(channels: object, problems: list[Problem]) -> list[str]:
    """Known channel names in order; adds 3300/3301/3100/3113 problems."""
    if not isinstance(channels, list) or not channels:
        problems.append((3300, "Missing parameter channels"))
        return []
    names: list[str] = []
    for entry in channels:
        if not isinstance(entry, dict) or not entry.get("channel"):
            problems.append((3301, "Missing parameter channel"))
            continue
        name = entry["channel"]
        if name not in CHANNELS:
            problems.append((3100, f"Unknown channel specified: {name}"))
            continue
        fallback = entry.get("fallback_time")
        # "A time in seconds": any positive number
        if fallback is not None and (
            isinstance(fallback, bool) or not isinstance(fallback, (int, float)) or fallback <= 0
        ):
            problems.append((3113, f"Invalid value for parameter channel: {json.dumps(channels)}"))
        if name in names:
            problems.append((3113, f"Invalid value for parameter channel: {json.dumps(channels)}"))
            continue
        names.append(name)
    return names


def _check_channel_message(channel: str, content: object, problems: list[Problem]) -> None:
    if not isinstance(content, dict):
        problems.append((3306, "Missing message parameters for specified channel"))
        return
    template = content.get("template")
    if not isinstance(template, str) or not template:
        problems.append((3112, "Specified template does not exist for selected channel"))
        return
    parameters = content.get("parameters")
    if not isinstance(parameters, dict):
        problems.append((3305, "Missing template specific parameters"))
        return
    required = TEMPLATES.get(channel, {}).get(template)
    if required is None:
        return  # a template the docs do not detail: shape only
    if any(not isinstance(parameters.get(p), str) or not parameters[p].strip() for p in required):
        problems.append((3305, "Missing template specific parameters"))
        return
    for name in URL_PARAMETERS:
        if name in parameters and not is_url(parameters[name]):
            problems.append((3108, "Invalid value for parameter message"))
    if "phone_number_to_dial" in required and not is_complete_phone(parameters["phone_number_to_dial"]):
        # "A complete phone number (including country code)."
        problems.append((3108, "Invalid value for parameter message"))
    if (channel, template) == ("whatsapp", "file") and "file_name" in parameters:
        file_name = parameters["file_name"]
        if not isinstance(file_name, str) or not file_name:  # "A filename."; leave it out for "file"
            problems.append((3108, "Invalid value for parameter message"))
