"""Mobile-originated (MO) messages in each vendor's shape, for ``POST /sandbox/inbound``.

Telesign shapes follow telesign-inbound-messages.txt. Two are assumed (the vendor page shows
neither): an RCS plain text as ``content.text`` and an RCS suggestion tap as
``content.suggestion_response{postback_data, text}``. Aerialink's MO shape is the one assumed in
docs/CONTRACTS.md.
"""

from __future__ import annotations

from typing import Any

from .config import SandboxConfig
from .formats import aerialink_guid, iso_micro_z, iso_milli_z, telesign_reference_id, utcnow

ACTIONS = ("stop", "help", "start")
# RCS/WhatsApp keyword handling (vendor page); SMS uses the same words here.
KEYWORDS = {
    "stop": ("arrêt", "arret", "cancel", "end", "quit", "stop", "unsubscribe"),
    "help": ("aide", "contact", "help", "info"),
    "start": ("start",),
}
TELESIGN_CHANNELS = ("rcs", "sms", "mms", "whatsapp", "viber")
AERIALINK_CHANNELS = ("rcs", "sms", "mms")


class InboundError(ValueError):
    """The injection request itself is wrong."""


def keyword_action(text: str | None, action: str | None) -> tuple[str, str] | None:
    """``(action, keyword)`` for an explicit action, or one detected in the text like Telesign does."""
    word = (text or "").strip().lower()
    if action:
        if action not in ACTIONS:
            raise InboundError(f"action must be one of {', '.join(ACTIONS)}")
        return action, word if word in KEYWORDS[action] else action
    for name, words in KEYWORDS.items():
        if word in words:
            return name, word
    return None


def telesign_inbound(request: dict[str, Any], config: SandboxConfig) -> dict[str, Any]:
    channel = str(request.get("channel") or "rcs").lower()
    if channel not in TELESIGN_CHANNELS:
        raise InboundError(f"channel must be one of {', '.join(TELESIGN_CHANNELS)}")
    phone = _phone(request)
    text, postback, media_url = request.get("text"), request.get("postback"), request.get("media_url")
    keyword = keyword_action(text, request.get("action"))
    if keyword and not text:
        text = keyword[0].capitalize()
    now = utcnow()
    status = {"code": 1500, "description": "Delivered to customer", "updated_on": iso_micro_z(now)}
    body: dict[str, Any] = {"reference_id": telesign_reference_id(), "status": status}
    end_user_action = (
        {"action": keyword[0], "iso_country_code": config.iso_country_code, "keyword": keyword[1], "text": text}
        if keyword
        else None
    )
    if channel == "sms":
        body["user_response"] = {
            "sender_id": config.sms_sender_id,
            "iso_country_code": config.iso_country_code,
            "action": keyword[0] if keyword else None,
            "keyword": keyword[1] if keyword else None,
            "phone_number": phone,
            "mo_message": text or "",
        }
        body.update(sub_resource="mo_sms", errors=[], submit_timestamp=iso_micro_z(now))
        return body
    body["phone_number"] = phone
    if channel == "rcs":
        if postback:
            content: dict[str, Any] = {"suggestion_response": {"postback_data": postback, "text": text or postback}}
        elif media_url:
            name = str(media_url).rstrip("/").rsplit("/", 1)[-1] or "file"
            content = {
                "file": {"payload": {"name": name, "mime_type": "image/jpeg", "uri": media_url, "size_bytes": 0}}
            }
        elif end_user_action:
            content = {"end_user_action": end_user_action}
        else:
            content = {"text": text or ""}
        body.update(rcs_sender_id=config.rcs_sender_id, content=content, sub_resource="mo_rcs")
    elif channel == "whatsapp":
        if end_user_action:
            body["content"] = {"end_user_action": end_user_action}
        else:
            body["content"] = {"content": {"body": text or ""}, "type": "text"}
        body["waba_phone_number"] = config.waba_phone_number
    elif channel == "mms":
        body["content"] = {"text_1": text or "", "subject": ""}
        if media_url:
            body["content"]["url_image_1"] = media_url
        body["sub_resource"] = "mo_mms"
    else:  # viber
        body["content"] = {"text": text or ""}
    return body


def aerialink_inbound(request: dict[str, Any], config: SandboxConfig) -> dict[str, Any]:
    channel = str(request.get("channel") or "rcs").lower()
    if channel not in AERIALINK_CHANNELS:
        raise InboundError(f"channel must be one of {', '.join(AERIALINK_CHANNELS)}")
    text = request.get("text")
    keyword = keyword_action(text, request.get("action"))
    if keyword and not text:
        text = keyword[0].upper()
    body: dict[str, Any] = {
        "messageGUID": aerialink_guid(),
        "source": _phone(request),
        "destination": config.aerialink_sender,
        "messageType": "RCS_TEXT" if channel == "rcs" else channel.upper(),
        "messageText": text or request.get("postback") or "",
    }
    if request.get("postback"):
        body["postbackData"] = request["postback"]
    if request.get("media_url"):
        body["mediaUrl"] = request["media_url"]
    body["timestamp"] = iso_milli_z(utcnow())
    return body


def _phone(request: dict[str, Any]) -> str:
    phone = request.get("phone_number")
    if not isinstance(phone, str) or not phone:
        raise InboundError("phone_number is required")
    return phone
