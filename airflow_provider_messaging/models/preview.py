"""What a validated payload would send, channel by channel: the building block of a dry run. Pure.

:func:`preview` lists, for every step of the cascade (Telesign ``channels`` in order, or an Aerialink
RCS message and its SMS/MMS failover): the recipient, the channel, the text, SMS segments and encoding
(so a stray emoji that doubles the cost shows up), media and buttons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from airflow_provider_messaging.models import aerialink, telesign
from airflow_provider_messaging.models.segments import SegmentInfo, analyze

AerialinkMessage = aerialink.RcsText | aerialink.RcsMedia | aerialink.RcsCard | aerialink.RcsCarousel


@dataclass(frozen=True)
class ChannelPreview:
    """One step of the cascade as it would be sent."""

    step: int  # 1 = first channel tried
    channel: str  # rcs, sms, whatsapp, mms
    content: str  # what is sent: "rcs.dial_action", "whatsapp.file", "RCS_CARD", "smsFailover", ...
    recipient: str
    sender: str | None = None
    text: str | None = None
    subject: str | None = None  # MMS
    segments: SegmentInfo | None = None  # SMS texts only
    media: tuple[str, ...] = ()
    buttons: tuple[str, ...] = ()
    cards: int | None = None
    fallback_after: int | None = None  # seconds before the next step (Telesign fallback_time)
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "step": self.step,
            "channel": self.channel,
            "content": self.content,
            "recipient": self.recipient,
            "sender": self.sender,
            "text": self.text,
            "subject": self.subject,
            "segments": self.segments.to_dict() if self.segments else None,
            "media": list(self.media),
            "buttons": list(self.buttons),
            "cards": self.cards,
            "fallback_after": self.fallback_after,
            "warnings": list(self.warnings),
        }
        return data


@dataclass(frozen=True)
class MessagePreview:
    """A whole message as it would be sent: vendor, recipient, message type and every cascade step."""

    vendor: str
    recipient: str
    message_type: str | None
    steps: tuple[ChannelPreview, ...] = field(default_factory=tuple)

    @property
    def sms_segments(self) -> int:
        """SMS parts billed if every SMS step were sent (a fallback is sent only when earlier steps fail)."""
        return sum(s.segments.segments for s in self.steps if s.segments)

    def to_dict(self) -> dict[str, Any]:
        return {
            "vendor": self.vendor,
            "recipient": self.recipient,
            "message_type": self.message_type,
            "steps": [s.to_dict() for s in self.steps],
            "sms_segments": self.sms_segments,
        }

    def lines(self) -> list[str]:
        """Readable lines for a task log or the CLI."""
        head = f"{self.vendor} message to {self.recipient}" + (f" ({self.message_type})" if self.message_type else "")
        out = [head]
        for s in self.steps:
            after = f", next after {s.fallback_after}s" if s.fallback_after is not None else ""
            sender = f" from {s.sender}" if s.sender else ""
            out.append(f"  {s.step}. {s.channel} {s.content}{sender}{after}")
            if s.subject is not None:
                out.append(f"     subject: {s.subject!r}")
            if s.text is not None:
                out.append(f"     text: {s.text!r}")
            if s.segments:
                g = s.segments
                out.append(f"     sms: {g.segments} segment(s), {g.encoding}, {g.units}/{g.per_segment * g.segments}")
            out.extend(f"     media: {m}" for m in s.media)
            out.extend(f"     button: {b}" for b in s.buttons)
            if s.cards is not None:
                out.append(f"     cards: {s.cards}")
            out.extend(f"     warning: {w}" for w in s.warnings)
        return out


def _sms_warnings(info: SegmentInfo) -> tuple[str, ...]:
    warnings = []
    if info.encoding == "UCS-2":
        chars = " ".join(repr(c) for c in info.ucs2_characters[:5])
        more = f" and {len(info.ucs2_characters) - 5} more" if len(info.ucs2_characters) > 5 else ""
        warnings.append(f"UCS-2 forced by {chars}{more}: {info.per_segment} characters per segment instead of 153/160")
    if info.segments > 1:
        warnings.append(f"{info.segments} segments: billed as {info.segments} messages")
    return tuple(warnings)


def _sms(step: int, content: str, recipient: str, text: str, **kwargs: Any) -> ChannelPreview:
    info = analyze(text)
    return ChannelPreview(
        step, "sms", content, recipient, text=text, segments=info, warnings=_sms_warnings(info), **kwargs
    )


# --------------------------------------------------------------------------------------------
# Telesign
# --------------------------------------------------------------------------------------------


def _telesign_step(request: telesign.OmnichannelRequest, step: int, entry: telesign.ChannelEntry) -> ChannelPreview:
    recipient = request.phone_number
    common: dict[str, Any] = {"fallback_after": entry.fallback_time}
    content = getattr(request.message, entry.channel)
    if entry.channel == "sms":
        return _sms(step, "sms.text", recipient, content.parameters.text, **common)
    params = content.parameters
    name = f"{entry.channel}.{content.template}"
    if isinstance(content, telesign.RcsDialAction):
        button = f"call {params.dial_text!r} -> {params.phone_number_to_dial}"
        return ChannelPreview(step, "rcs", name, recipient, text=params.text, buttons=(button,), **common)
    if isinstance(content, telesign.RcsUrlAction):
        button = f"open {params.url_text!r} -> {params.url}"
        return ChannelPreview(step, "rcs", name, recipient, text=params.text, buttons=(button,), **common)
    if isinstance(content, telesign.WhatsAppFile):
        label = params.file_name or "file"  # the vendor shows "file" when no name is given
        return ChannelPreview(step, "whatsapp", name, recipient, media=(f"{params.url} ({label})",), **common)
    return ChannelPreview(step, entry.channel, name, recipient, text=params.text, **common)


def _preview_telesign(request: telesign.OmnichannelRequest) -> MessagePreview:
    steps = tuple(_telesign_step(request, i, entry) for i, entry in enumerate(request.channels, start=1))
    return MessagePreview("telesign", request.phone_number, request.message_type, steps)


# --------------------------------------------------------------------------------------------
# Aerialink
# --------------------------------------------------------------------------------------------


def _choice(choice: Any) -> str:
    title = repr(choice.title)
    if isinstance(choice, aerialink.OpenUrlChoice):
        return f"open {title} -> {choice.url} ({choice.application.lower()})"
    if isinstance(choice, aerialink.DialPhoneChoice):
        return f"call {title} -> {choice.phone_number}"
    if isinstance(choice, aerialink.ShowLocationChoice):
        return f"show location {title} ({choice.latitude}, {choice.longitude})"
    if isinstance(choice, aerialink.RequestLocationChoice):
        return f"request location {title}"
    if isinstance(choice, aerialink.CreateCalendarEventChoice):
        return f"add to calendar {title}: {choice.event_title!r} {choice.start_time} - {choice.end_time}"
    return f"reply {title} (postback {choice.postback_data!r})"


def _card_text(card: Any) -> str:
    return f"{card.title}\n{card.description}" if card.description else card.title


def _rcs_step(message: AerialinkMessage) -> ChannelPreview:
    recipient, sender, kind = message.destination, message.source, message.message_type
    if isinstance(message, aerialink.RcsText):
        buttons = tuple(_choice(c) for c in message.choices or [])
        return ChannelPreview(1, "rcs", kind, recipient, sender, text=message.message_text, buttons=buttons)
    if isinstance(message, aerialink.RcsMedia):
        buttons = tuple(_choice(c) for c in message.choices or [])
        files = (f"{message.media_url} ({message.filename_override})", f"thumbnail {message.thumbnail_url}")
        return ChannelPreview(1, "rcs", kind, recipient, sender, media=files, buttons=buttons)
    if isinstance(message, aerialink.RcsCard):
        buttons = tuple(_choice(c) for c in message.choices or [])
        return ChannelPreview(
            1, "rcs", kind, recipient, sender, text=_card_text(message), media=(message.media_url,), buttons=buttons
        )
    cards = message.cards
    buttons = tuple(f"card {i}: {_choice(c)}" for i, card in enumerate(cards, start=1) for c in card.choices or [])
    text = "\n---\n".join(_card_text(card) for card in cards)
    media = tuple(card.media_url for card in cards)
    return ChannelPreview(1, "rcs", kind, recipient, sender, text=text, media=media, buttons=buttons, cards=len(cards))


def _preview_aerialink(message: AerialinkMessage) -> MessagePreview:
    steps = [_rcs_step(message)]
    sms = getattr(message, "sms_failover", None)
    if sms is not None and sms.enabled and sms.fallback_text:
        steps.append(_sms(2, "smsFailover", message.destination, sms.fallback_text, sender=sms.failover_source))
    mms = getattr(message, "mms_failover", None)
    if mms is not None and mms.enabled:
        steps.append(
            ChannelPreview(
                2,
                "mms",
                "mmsFailover",
                message.destination,
                mms.failover_source,
                text=mms.fallback_text,
                subject=mms.subject,
                media=tuple(m for m in (mms.media_url,) if m),
            )
        )
    return MessagePreview("aerialink", message.destination, None, tuple(steps))


def preview(payload: BaseModel) -> MessagePreview:
    """What ``payload`` (a validated Telesign or Aerialink request model) would send, step by step."""
    if isinstance(payload, telesign.OmnichannelRequest):
        return _preview_telesign(payload)
    if isinstance(payload, aerialink.RcsText | aerialink.RcsMedia | aerialink.RcsCard | aerialink.RcsCarousel):
        return _preview_aerialink(payload)
    raise TypeError(f"preview needs a Telesign OmnichannelRequest or an Aerialink RCS message, not {type(payload)}")
