"""Aerialink (Convey) v5 hook: ``POST /v5/messages`` (RCS text, media, card, carousel with failover)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from pydantic import ValidationError

from airflow_provider_messaging.exceptions import SendOutcomeUnknownError, VendorAPIError
from airflow_provider_messaging.hooks.base import ErrorInfo, MessagingHttpHook
from airflow_provider_messaging.models.aerialink import (
    ErrorResponse,
    RcsCard,
    RcsCarousel,
    RcsMedia,
    RcsText,
    SendResponse,
    parse_message,
)
from airflow_provider_messaging.models.base import validate, wire_bytes

SEND_PATH = "/v5/messages"

RcsMessage = RcsText | RcsMedia | RcsCard | RcsCarousel
M = TypeVar("M", bound=RcsText | RcsMedia | RcsCard | RcsCarousel)


class AerialinkHook(MessagingHttpHook):
    """Send RCS messages through Aerialink's v5 messages API.

    Connection: login = API user, password = API secret, host default ``https://apix5.aerialink.net``;
    extras ``default_source`` (RCS sender such as ``CONVEY``) and ``callback_url``.

    :param aerialink_conn_id: Airflow connection id of type ``aerialink``.
    :param kwargs: pool, retry and backoff settings of :class:`MessagingHttpHook`.
    """

    conn_name_attr = "aerialink_conn_id"
    default_conn_name = "aerialink_default"
    conn_type = "aerialink"
    hook_name = "Aerialink"
    vendor = "Aerialink"
    default_host = "https://apix5.aerialink.net"
    # An empty message: 400 (validation) proves the credentials were accepted, and nothing can be sent.
    probe: ClassVar[tuple[str, str, bytes | None, frozenset[int]]] = ("POST", SEND_PATH, b"{}", frozenset({400}))

    def __init__(self, aerialink_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(aerialink_conn_id, **kwargs)
        self.aerialink_conn_id = aerialink_conn_id

    @property
    def default_source(self) -> str | None:
        """RCS sender used when a message gives none (extra ``default_source``)."""
        value = self.extra("default_source")
        return str(value) if value is not None else None

    @property
    def callback_url(self) -> str | None:
        """``callbackURL`` used when a message gives none (extra ``callback_url``)."""
        value = self.extra("callback_url")
        return str(value) if value is not None else None

    def send_message(self, message: RcsMessage | Mapping[str, Any]) -> SendResponse:
        """Send one RCS message; return the answer with its ``messageGUID``.

        A dict is validated first (``PayloadValidationError`` before any HTTP call); a missing
        ``source`` / ``callbackURL`` is taken from the connection (:meth:`with_defaults`).

        :raises VendorAPIError: the vendor refused it; a 400 lists every bad field.
        :raises SendOutcomeUnknownError: it may have been accepted; do not send it again blindly.
        :raises VendorUnavailableError: nothing was sent.
        """
        model = parse_message(self.with_defaults(message))
        body = wire_bytes(model)  # the same bytes the 10 KB check measured
        response = self.post_json(SEND_PATH, body)
        try:
            answer = SendResponse.model_validate_json(response.content)
        except ValidationError:
            raise SendOutcomeUnknownError(
                f"Aerialink answered HTTP {response.status_code} without a readable result; "
                "the message may have been accepted. Not re-sent."
            ) from None
        if answer.ok and answer.guids:
            return answer
        if answer.ok:
            raise SendOutcomeUnknownError("Aerialink answered success but returned no messageGUID")
        raise VendorAPIError(
            vendor=self.vendor,
            http_status=response.status_code,
            code=answer.status,
            description=self.scrub(answer.message),
        )

    def build_message(self, model: type[M], **fields: Any) -> M:
        """``model`` (e.g. ``RcsText``) from its fields by Python name, with the connection's defaults.

        The operators and the notifier build their message here, so the vendor defaults are applied in
        this one place; ``None`` means "not given". Raises ``PayloadValidationError`` naming the field.
        """
        given = {name: value for name, value in fields.items() if value is not None}
        return validate(model, self.with_defaults(given))

    def with_defaults(self, message: RcsMessage | Mapping[str, Any]) -> Any:
        """Fill ``source`` (dicts only: the models require it) and ``callbackURL`` from the connection.

        The one place the Aerialink defaults are applied (extras ``default_source``, ``callback_url``).
        A dict may name fields by the vendor's alias or by Python name.
        """
        # The connection is read only for a default that is needed: a message that gives both needs none.
        if not isinstance(message, Mapping):
            if message.callback_url is None and self.callback_url:
                return message.model_copy(update={"callback_url": self.callback_url})
            return message
        filled = dict(message)
        if not filled.get("source") and self.default_source:
            filled["source"] = self.default_source
        if not (filled.get("callbackURL") or filled.get("callback_url")) and self.callback_url:
            filled.pop("callback_url", None)
            filled["callbackURL"] = self.callback_url
        return filled

    def parse_error(self, payload: dict[str, Any]) -> ErrorInfo:
        """``{"status": "error", "message": ..., "data": [{field, description, message}]}``."""
        try:
            error = ErrorResponse.model_validate(payload)
        except ValidationError:
            return super().parse_error(payload)
        return ErrorInfo(None, error.message, error.field_errors(), None)
