"""Aerialink RCS operators: text, media, card and carousel, with SMS/MMS failover.

``source`` defaults to the connection's ``default_source`` and ``callback_url`` to its ``callback_url``.
Choices, cards and failovers may be given as models or as dicts in the vendor's camelCase.
"""

from __future__ import annotations

import copy
from abc import abstractmethod
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

from airflow_provider_messaging.operators.base import MessagingSendOperator

if TYPE_CHECKING:
    from airflow_provider_messaging.hooks.aerialink import AerialinkHook
    from airflow_provider_messaging.models.aerialink import RcsCard, RcsCarousel, RcsMedia, RcsText

    AerialinkMessage = RcsText | RcsMedia | RcsCard | RcsCarousel

# The hook and the models load when a task runs, not when a DAG file is parsed: this module imports neither.
DEFAULT_CONN_ID = "aerialink_default"


def _plain(value: Any) -> Any:
    """Models (or lists of them) -> vendor-shaped dicts; dicts are copied."""
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True, exclude_none=True)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return copy.deepcopy(value)


class _AerialinkOperator(MessagingSendOperator["AerialinkMessage"]):
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
        aerialink_conn_id: str = DEFAULT_CONN_ID,
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
        from airflow_provider_messaging.hooks.aerialink import AerialinkHook

        return AerialinkHook(aerialink_conn_id=self.aerialink_conn_id)

    @property
    def rate_limit(self) -> float | None:
        return self.hook.rate_limit

    @abstractmethod
    def content(self) -> dict[str, Any]:
        """The message-type specific fields of the model, by Python name (``None``: not given)."""

    def build_payload(self, recipient: str | None = None) -> AerialinkMessage:
        from airflow_provider_messaging.models.aerialink import MESSAGE_MODELS

        # The hook fills the connection's defaults (source, callback URL) and validates.
        return self.hook.build_message(
            MESSAGE_MODELS[self.message_type],
            source=self.source or None,
            destination=recipient if recipient is not None else self.destination,
            callback_url=self.callback_url or None,
            extra_fields=copy.deepcopy(self.extra_fields) or None,
            **self.content(),
        )

    def recipient_of(self, payload: AerialinkMessage) -> str:
        return payload.destination

    def cascade_of(self, payload: AerialinkMessage) -> list[str]:
        sms = getattr(payload, "sms_failover", None)
        mms = getattr(payload, "mms_failover", None)
        if sms is not None and sms.enabled:
            return ["rcs", "sms"]
        if mms is not None and mms.enabled:
            return ["rcs", "mms"]
        return ["rcs"]

    def send_payload(self, payload: AerialinkMessage) -> str:
        return self.hook.send_message(payload).guids[0]


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
        return {"message_text": self.message_text, "choices": self.choices, "sms_failover": self.sms_failover}


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
            "media_url": self.media_url,
            "thumbnail_url": self.thumbnail_url,
            "filename_override": self.filename_override,
            "choices": self.choices,
            "mms_failover": self.mms_failover,
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
            "media_url": self.media_url,
            "thumbnail_url": self.thumbnail_url,
            "filename_override": self.filename_override,
            "choices": self.choices,
            "mms_failover": self.mms_failover,
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
        return {"cards": self.cards, "mms_failover": self.mms_failover}
