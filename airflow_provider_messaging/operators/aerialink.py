"""Aerialink RCS operators: text, media, card and carousel, with SMS/MMS failover.

``source`` defaults to the connection's ``default_source`` and ``callback_url`` to its ``callback_url``.
Choices, cards and failovers may be given as models or as dicts in the vendor's camelCase.
"""

from __future__ import annotations

import copy
from abc import abstractmethod
from functools import cached_property
from typing import Any, ClassVar

from pydantic import BaseModel

from airflow_provider_messaging.hooks.aerialink import AerialinkHook
from airflow_provider_messaging.models.aerialink import RcsCard, RcsCarousel, RcsMedia, RcsText, parse_message
from airflow_provider_messaging.operators.base import MessagingSendOperator

AerialinkMessage = RcsText | RcsMedia | RcsCard | RcsCarousel


def _plain(value: Any) -> Any:
    """Models (or lists of them) -> vendor-shaped dicts; dicts are copied."""
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True, exclude_none=True)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return copy.deepcopy(value)


class _AerialinkOperator(MessagingSendOperator):
    """Shared parts of the Aerialink operators.

    :param destination: recipient phone number (templated).
    :param source: RCS sender id such as ``CONVEY`` (default: the connection's ``default_source``).
    :param callback_url: delivery status URL (default: the connection's ``callback_url``).
    :param extra_fields: vendor fields these models do not know yet, merged onto the body as given
        (templated; nested objects such as cards and choices take their own ``extra_fields`` key).
    :param aerialink_conn_id: connection of type *Aerialink*.
    """

    vendor: ClassVar[str] = "aerialink"
    message_type: ClassVar[str] = ""
    failover_field: ClassVar[str] = "mmsFailover"
    common_template_fields: ClassVar[tuple[str, ...]] = (
        "destination",
        "source",
        "callback_url",
        "extra_fields",
        "aerialink_conn_id",
        *MessagingSendOperator.base_template_fields,
    )
    template_fields_renderers = {"choices": "json", "cards": "json", "sms_failover": "json", "mms_failover": "json"}

    def __init__(
        self,
        *,
        destination: str | None = None,
        source: str | None = None,
        callback_url: str | None = None,
        extra_fields: dict[str, Any] | None = None,
        aerialink_conn_id: str = AerialinkHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.destination = destination
        self.source = source
        self.callback_url = callback_url
        self.extra_fields = extra_fields
        self.aerialink_conn_id = aerialink_conn_id

    @cached_property
    def hook(self) -> AerialinkHook:
        return AerialinkHook(aerialink_conn_id=self.aerialink_conn_id)

    @property
    def rate_limit(self) -> float | None:
        return self.hook.rate_limit

    @abstractmethod
    def content(self) -> dict[str, Any]:
        """The message-type specific fields, in the vendor's camelCase."""

    def build_payload(self, recipient: str | None = None) -> AerialinkMessage:
        body: dict[str, Any] = {
            "messageType": self.message_type,
            "source": self.source or self.hook.default_source,
            "destination": recipient if recipient is not None else self.destination,
            **{k: v for k, v in self.content().items() if v is not None},
        }
        callback_url = self.callback_url or self.hook.callback_url
        if callback_url:
            body["callbackURL"] = callback_url
        if self.extra_fields:
            body["extra_fields"] = copy.deepcopy(self.extra_fields)
        return parse_message(body)

    def recipient_of(self, payload: BaseModel) -> str:
        return str(payload.destination)  # type: ignore[attr-defined]

    def cascade_of(self, payload: BaseModel) -> list[str]:
        sms = getattr(payload, "sms_failover", None)
        mms = getattr(payload, "mms_failover", None)
        if sms is not None and sms.enabled:
            return ["rcs", "sms"]
        if mms is not None and mms.enabled:
            return ["rcs", "mms"]
        return ["rcs"]

    def send_payload(self, payload: BaseModel) -> str:
        response = self.hook.send_message(payload)  # type: ignore[arg-type]
        return response.guids[0]


class AerialinkRcsTextOperator(_AerialinkOperator):
    """RCS_TEXT: text with optional choices and SMS failover (``{"enabled", "failoverSource", "fallbackText"}``)."""

    message_type = "RCS_TEXT"
    template_fields = (*_AerialinkOperator.common_template_fields, "message_text", "choices", "sms_failover")

    def __init__(
        self,
        *,
        message_text: str,
        choices: list[Any] | None = None,
        sms_failover: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.message_text = message_text
        self.choices = _plain(choices)
        self.sms_failover = _plain(sms_failover)

    def content(self) -> dict[str, Any]:
        return {"messageText": self.message_text, "choices": self.choices, "smsFailover": self.sms_failover}


class AerialinkRcsMediaOperator(_AerialinkOperator):
    """RCS_MEDIA: a media file with thumbnail, optional choices and MMS failover."""

    message_type = "RCS_MEDIA"
    template_fields = (
        *_AerialinkOperator.common_template_fields,
        "media_url",
        "thumbnail_url",
        "filename_override",
        "choices",
        "mms_failover",
    )

    def __init__(
        self,
        *,
        media_url: str,
        thumbnail_url: str,
        filename_override: str,
        choices: list[Any] | None = None,
        mms_failover: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.media_url = media_url
        self.thumbnail_url = thumbnail_url
        self.filename_override = filename_override
        self.choices = _plain(choices)
        self.mms_failover = _plain(mms_failover)

    def content(self) -> dict[str, Any]:
        return {
            "mediaUrl": self.media_url,
            "thumbnailUrl": self.thumbnail_url,
            "filenameOverride": self.filename_override,
            "choices": self.choices,
            "mmsFailover": self.mms_failover,
        }


class AerialinkRcsCardOperator(_AerialinkOperator):
    """RCS_CARD: title, description, media and up to 4 choices, with MMS failover."""

    message_type = "RCS_CARD"
    template_fields = (
        *_AerialinkOperator.common_template_fields,
        "title",
        "description",
        "height",
        "media_url",
        "thumbnail_url",
        "filename_override",
        "choices",
        "mms_failover",
    )

    def __init__(
        self,
        *,
        title: str,
        description: str,
        media_url: str,
        height: str = "MEDIUM",
        thumbnail_url: str | None = None,
        filename_override: str | None = None,
        choices: list[Any] | None = None,
        mms_failover: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.title = title
        self.description = description
        self.height = height
        self.media_url = media_url
        self.thumbnail_url = thumbnail_url
        self.filename_override = filename_override
        self.choices = _plain(choices)
        self.mms_failover = _plain(mms_failover)

    def content(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "description": self.description,
            "height": self.height,
            "mediaUrl": self.media_url,
            "thumbnailUrl": self.thumbnail_url,
            "filenameOverride": self.filename_override,
            "choices": self.choices,
            "mmsFailover": self.mms_failover,
        }


class AerialinkRcsCarouselOperator(_AerialinkOperator):
    """RCS_CAROUSEL: 1 to 10 cards, each with up to 4 choices, with MMS failover."""

    message_type = "RCS_CAROUSEL"
    template_fields = (*_AerialinkOperator.common_template_fields, "cards", "mms_failover")

    def __init__(self, *, cards: list[Any], mms_failover: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cards = _plain(cards)
        self.mms_failover = _plain(mms_failover)

    def content(self) -> dict[str, Any]:
        return {"cards": self.cards, "mmsFailover": self.mms_failover}
