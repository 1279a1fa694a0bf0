"""Telesign operators: one per message type of the vendor docs, plus a generic omnichannel send.

Each returns (XCom) ``{"vendor", "message_id", "recipient", "idempotency_key", "status", "channels"}``;
in bulk mode (``recipients=[...]``) a list of them.
"""

from __future__ import annotations

import copy
from abc import abstractmethod
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

from airflow_provider_messaging.operators.base import MessagingSendOperator

if TYPE_CHECKING:
    from airflow_provider_messaging.hooks.telesign import TelesignHook
    from airflow_provider_messaging.models.telesign import OmnichannelRequest, Step

# The hook and the models load when a task runs, not when a DAG file is parsed (module docstring of
# operators.base): this module imports neither.
DEFAULT_CONN_ID = "telesign_default"


class TelesignSendOperator(MessagingSendOperator["OmnichannelRequest"]):
    """Send any omnichannel request: an ordered channel cascade with one template per channel.

    :param phone_number: recipient, digits with country code (templated).
    :param channels: the cascade, e.g. ``["rcs", "sms"]`` or ``[{"channel": "rcs", "fallback_time": 600}, ...]``.
    :param message: ``{"rcs": {"template": ..., "parameters": {...}}, "sms": {...}}`` (templated).
    :param message_type: ARN, MKT or OTP.
    :param request: a whole :class:`OmnichannelRequest` (model or dict) instead of the parts above.
    :param extra_fields: vendor fields the models do not know yet, merged onto the body as given
        (templated; a channel's content or parameters take their own ``extra_fields`` key).
    :param telesign_conn_id: connection of type *Telesign*.

    Channels: ``rcs``, ``sms``, ``whatsapp``, ``mms``, ``viber`` and ``email``. The templates the vendor
    docs detail are validated field by field; any other template is sent as given
    (``{"template": ..., "parameters": {...}}``).
    """

    vendor: ClassVar[str] = "telesign"
    template_fields = (
        "phone_number",
        "channels",
        "message",
        "message_type",
        "external_id",
        "request",
        "extra_fields",
        "telesign_conn_id",
        *MessagingSendOperator.base_template_fields,
    )
    template_fields_renderers = {
        "channels": "json",
        "message": "json",
        "request": "json",
        "extra_fields": "json",
        "backup": "json",
    }

    def __init__(
        self,
        *,
        phone_number: str | None = None,
        channels: list[Any] | None = None,
        message: dict[str, Any] | None = None,
        message_type: str = "ARN",
        external_id: str | None = None,
        request: OmnichannelRequest | dict[str, Any] | None = None,
        extra_fields: dict[str, Any] | None = None,
        telesign_conn_id: str = DEFAULT_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.phone_number = phone_number
        self.channels = channels
        self.message = message
        self.message_type = message_type
        self.external_id = external_id
        self.request = (
            request.model_dump(by_alias=True, exclude_none=True) if isinstance(request, BaseModel) else request
        )
        self.extra_fields = extra_fields
        self.telesign_conn_id = telesign_conn_id

    @cached_property
    def hook(self) -> TelesignHook:
        from airflow_provider_messaging.hooks.telesign import TelesignHook

        return TelesignHook(telesign_conn_id=self.telesign_conn_id)

    @property
    def rate_limit(self) -> float | None:
        return self.hook.rate_limit

    def steps(self) -> list[Step] | None:
        """The cascade as steps (the typed operators); ``None``: ``channels`` and ``message`` as given."""
        return None

    def build_payload(self, recipient: str | None = None) -> OmnichannelRequest:
        from airflow_provider_messaging.models.telesign import OmnichannelRequest, cascade

        phone_number = recipient if recipient is not None else self.phone_number
        steps = self.steps()
        if steps is not None:
            return cascade(
                phone_number, steps, self.message_type, external_id=self.external_id, extra_fields=self.extra_fields
            )
        # A whole request, or its channels and message as the caller wrote them (vendor-shaped input).
        fields: dict[str, Any] = (
            copy.deepcopy(dict(self.request))
            if self.request is not None
            else {
                "channels": [c if isinstance(c, dict) else {"channel": c} for c in (self.channels or [])],
                "phone_number": self.phone_number,
                "message": copy.deepcopy(self.message or {}),
                "message_type": self.message_type,
                **({"external_id": self.external_id} if self.external_id else {}),
            }
        )
        if recipient is not None:
            fields["phone_number"] = recipient
        if self.extra_fields:
            fields["extra_fields"] = {**(fields.get("extra_fields") or {}), **copy.deepcopy(self.extra_fields)}
        return OmnichannelRequest.parse(fields)

    def recipient_of(self, payload: OmnichannelRequest) -> str:
        return payload.phone_number

    def cascade_of(self, payload: OmnichannelRequest) -> list[str]:
        return [entry.channel for entry in payload.channels]

    def message_category_of(self, payload: OmnichannelRequest) -> str | None:
        return self.message_category or payload.message_type

    def send_payload(self, payload: OmnichannelRequest) -> str:
        # the hook returns only an accepted answer, which has a reference_id
        return str(self.hook.send_omnichannel(payload).reference_id)


class _FirstChannelWithSmsFallback(TelesignSendOperator):
    """A rich first channel (RCS or WhatsApp) with an optional backup, as in the vendor examples.

    :param sms_fallback_text: SMS backup with the ``text`` template (the docs' example).
    :param backup: any other backup ("You can use a different backup channel and template if you
        prefer"): ``{"channel": "viber", "template": "text", "parameters": {"text": "..."}}``.
    :param fallback_time: seconds before the backup is tried.
    """

    first_channel: ClassVar[str] = ""
    template: ClassVar[str] = ""

    def __init__(
        self,
        *,
        sms_fallback_text: str | None = None,
        backup: dict[str, Any] | None = None,
        fallback_time: int | float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if sms_fallback_text and backup:
            raise ValueError("give either sms_fallback_text or backup, not both")
        self.sms_fallback_text = sms_fallback_text
        self.backup = backup
        self.fallback_time = fallback_time

    @abstractmethod
    def parameters(self) -> dict[str, Any]: ...

    def steps(self) -> list[Step]:
        from airflow_provider_messaging.models.telesign import Step

        steps = [Step(self.first_channel, self.template, self.parameters(), self.fallback_time)]
        if self.sms_fallback_text:
            steps.append(Step("sms", "text", {"text": self.sms_fallback_text}))
        elif self.backup:
            backup = copy.deepcopy(dict(self.backup))
            channel, template, parameters = (backup.pop(k, None) for k in ("channel", "template", "parameters"))
            steps.append(Step(channel, template, parameters, content=backup))
        return steps


class TelesignRcsCallButtonOperator(_FirstChannelWithSmsFallback):
    """RCS message with a click-to-call button (template ``dial_action``), optional SMS fallback."""

    first_channel = "rcs"
    template = "dial_action"
    template_fields = (
        *TelesignSendOperator.template_fields,
        "text",
        "dial_text",
        "phone_number_to_dial",
        "dial_payload",
        "sms_fallback_text",
        "backup",
        "fallback_time",
    )

    def __init__(
        self, *, text: str, dial_text: str, phone_number_to_dial: str, dial_payload: str, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.text = text
        self.dial_text = dial_text
        self.phone_number_to_dial = phone_number_to_dial
        self.dial_payload = dial_payload

    def parameters(self) -> dict[str, Any]:
        return {
            "dial_text": self.dial_text,
            "phone_number_to_dial": self.phone_number_to_dial,
            "dial_payload": self.dial_payload,
            "text": self.text,
        }


class TelesignRcsLinkButtonOperator(_FirstChannelWithSmsFallback):
    """RCS message with a link button (template ``url_action``), optional SMS fallback."""

    first_channel = "rcs"
    template = "url_action"
    template_fields = (
        *TelesignSendOperator.template_fields,
        "text",
        "url",
        "url_id",
        "url_text",
        "sms_fallback_text",
        "backup",
        "fallback_time",
    )

    def __init__(self, *, text: str, url: str, url_id: str, url_text: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.text = text
        self.url = url
        self.url_id = url_id
        self.url_text = url_text

    def parameters(self) -> dict[str, Any]:
        return {"url_text": self.url_text, "text": self.text, "url_id": self.url_id, "url": self.url}


class TelesignWhatsAppFileOperator(_FirstChannelWithSmsFallback):
    """WhatsApp message with a file you host (template ``file``), optional SMS fallback.

    Without ``file_name`` the vendor shows the file as "file".
    """

    first_channel = "whatsapp"
    template = "file"
    template_fields = (
        *TelesignSendOperator.template_fields,
        "url",
        "file_name",
        "sms_fallback_text",
        "backup",
        "fallback_time",
    )

    def __init__(self, *, url: str, file_name: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.url = url
        self.file_name = file_name

    def parameters(self) -> dict[str, Any]:
        parameters: dict[str, Any] = {"url": self.url}
        if self.file_name:
            parameters["file_name"] = self.file_name
        return parameters


class TelesignSmsOperator(TelesignSendOperator):
    """Plain SMS through the omnichannel API (template ``text``)."""

    template_fields = (*TelesignSendOperator.template_fields, "text")

    def __init__(self, *, text: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.text = text

    def steps(self) -> list[Step]:
        from airflow_provider_messaging.models.telesign import Step

        return [Step("sms", "text", {"text": self.text})]
