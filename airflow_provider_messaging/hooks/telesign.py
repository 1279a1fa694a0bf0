"""Telesign Messaging hook: ``POST /v1/omnichannel`` (RCS, WhatsApp, SMS with fallback)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import ValidationError

from airflow_provider_messaging.exceptions import FieldError, SendOutcomeUnknownError, VendorAPIError
from airflow_provider_messaging.hooks.base import ErrorInfo, MessagingHttpHook
from airflow_provider_messaging.models.base import wire_bytes
from airflow_provider_messaging.models.telesign import OmnichannelRequest, OmnichannelResponse

SEND_PATH = "/v1/omnichannel"
#: Status code of an accepted message ("Message in progress").
ACCEPTED_CODE = 3001
#: A well-formed reference id that names no message: ``test_connection`` looks it up.
PROBE_REFERENCE_ID = "0" * 32


class TelesignHook(MessagingHttpHook):
    """Send messages through Telesign's omnichannel API.

    Connection: login = Customer ID, password = API key, host default ``https://rest-ww.telesign.com``.

    :param telesign_conn_id: Airflow connection id of type ``telesign``.
    :param kwargs: pool, retry and backoff settings of :class:`MessagingHttpHook`.
    """

    conn_name_attr = "telesign_conn_id"
    default_conn_name = "telesign_default"
    conn_type = "telesign"
    hook_name = "Telesign"
    vendor = "Telesign"
    default_host = "https://rest-ww.telesign.com"
    # An authenticated status lookup (SMS API): 404/200 prove the credentials, nothing is sent.
    probe: ClassVar[tuple[str, str, bytes | None, frozenset[int]]] = (
        "GET",
        f"/v1/messaging/{PROBE_REFERENCE_ID}",
        None,
        frozenset({200, 404}),
    )

    def __init__(self, telesign_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(telesign_conn_id, **kwargs)
        self.telesign_conn_id = telesign_conn_id

    @property
    def customer_id(self) -> str:
        return self.settings.login

    @property
    def api_key(self) -> str:
        """The API key (base64); the callback receiver verifies Telesign's HMAC signatures with it."""
        return self.settings.password

    def send_omnichannel(self, request: OmnichannelRequest | Mapping[str, Any]) -> OmnichannelResponse:
        """Send one message; return the accepted answer (``status.code`` 3001 and ``reference_id``).

        A dict is validated first (:class:`~airflow_provider_messaging.exceptions.PayloadValidationError`
        before any HTTP call); a model instance is sent as it is.

        :raises VendorAPIError: the vendor refused it (subclasses for 401/403, 429, 5xx).
        :raises SendOutcomeUnknownError: it may have been accepted; do not send it again blindly.
        :raises VendorUnavailableError: nothing was sent.
        """
        model = OmnichannelRequest.parse(request)
        body = wire_bytes(model)  # the same bytes the 10 KB check measured
        response = self.post_json(SEND_PATH, body)
        try:
            answer = OmnichannelResponse.model_validate_json(response.content)
        except ValidationError:
            raise SendOutcomeUnknownError(
                f"Telesign answered HTTP {response.status_code} without a readable status; "
                "the message may have been accepted. Not re-sent."
            ) from None
        if answer.accepted:
            return answer
        if answer.status.code == ACCEPTED_CODE:
            raise SendOutcomeUnknownError("Telesign accepted the message (3001) but returned no reference_id")
        raise VendorAPIError(
            vendor=self.vendor,
            http_status=response.status_code,
            code=self.scrub_value(answer.status.code),
            description=self.scrub(answer.status.description),
            field_errors=self.scrub_fields(_errors(answer.errors)),
            reference_id=self.scrub(answer.reference_id),
        )

    def parse_error(self, payload: dict[str, Any]) -> ErrorInfo:
        """``{reference_id, status: {code, description}, errors: [{code, description}]}``."""
        status = payload.get("status")
        status = status if isinstance(status, dict) else {}
        errors = payload.get("errors")
        errors = errors if isinstance(errors, list) else []
        code = status.get("code")
        description = status.get("description")
        if code is None and errors and isinstance(errors[0], dict):
            code, description = errors[0].get("code"), errors[0].get("description")
        reference_id = payload.get("reference_id")
        return ErrorInfo(code, description, _errors(errors), str(reference_id) if reference_id else None)


def _errors(errors: list[Any]) -> list[FieldError]:
    """Telesign ``errors[]`` entries as field errors (they name a code, rarely a field)."""
    result = []
    for error in errors:
        if isinstance(error, dict):
            text = " ".join(str(v) for v in (error.get("code"), error.get("description")) if v is not None)
            result.append(FieldError(str(error.get("field") or ""), text))
    return result
