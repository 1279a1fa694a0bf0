"""Exception tree of airflow-provider-messaging.

::

    MessagingError
    ├── PayloadValidationError      bad input, raised before any HTTP call (lists every field)
    ├── ConfigurationError          a connection or setting is unusable; nothing was sent
    ├── VendorUnavailableError      nothing was sent: connection refused / DNS / connect timeout
    ├── SendOutcomeUnknownError     the request may have reached the vendor; never re-sent blindly
    ├── VendorAPIError              the vendor answered with an error
    │   ├── AuthenticationError     401 / 403
    │   ├── RateLimitError          429 (Telesign 3204), after retries ran out
    │   └── VendorServerError       5xx (Telesign 3500 / 3041), after retries ran out
    └── StoreError                  the message store failed (re-exported by ``store``)
        ├── StoreUnavailableError   database down or not writable: retry later (receiver: 503)
        └── SchemaOutdatedError     run ``airflow-messaging db upgrade``

None of these import Airflow, so models and the store can raise them too.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class MessagingError(Exception):
    """Base class for every error this provider raises."""


@dataclass(frozen=True)
class FieldError:
    """One broken rule: the vendor-style dotted path (``cards.1.choices.0.url``) and what is wrong."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class PayloadValidationError(MessagingError, ValueError):
    """A payload breaks vendor rules. Raised before anything is sent; lists every bad field."""

    def __init__(self, model: str, errors: list[FieldError]):
        self.model = model
        self.errors = list(errors)
        lines = "\n".join(f"  - {e}" for e in self.errors)
        super().__init__(f"Invalid {model} ({len(self.errors)} error(s)):\n{lines}")

    @property
    def fields(self) -> list[str]:
        return [e.field for e in self.errors]


class ConfigurationError(MessagingError):
    """A connection or setting cannot be used as it is (e.g. a host that is no URL); nothing was sent."""


class VendorUnavailableError(MessagingError):
    """The vendor could not be reached; the request was never sent, so a retry is safe."""


class SendOutcomeUnknownError(MessagingError):
    """The request may have reached the vendor (e.g. read timeout after the body was sent).

    It is never re-sent automatically: a second attempt could text the customer twice.
    """


@dataclass
class VendorAPIError(MessagingError):
    """The vendor answered with an error status. Carries the vendor's code, description and field list."""

    vendor: str
    http_status: int
    code: str | int | None = None
    description: str | None = None
    field_errors: list[FieldError] = field(default_factory=list)
    reference_id: str | None = None
    retry_after: float | None = None

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.vendor} API error: HTTP {self.http_status}"
        if self.code is not None:
            text += f", code {self.code}"
        if self.description:
            text += f": {self.description}"
        if self.reference_id:
            text += f" (reference_id {self.reference_id})"
        if self.field_errors:
            text += "\n" + "\n".join(f"  - {e}" for e in self.field_errors)
        return text


class AuthenticationError(VendorAPIError):
    """401 / 403: the credentials of the connection were refused."""


class RateLimitError(VendorAPIError):
    """429 (Telesign 3204) after the retry budget ran out."""


class VendorServerError(VendorAPIError):
    """5xx (Telesign 3500 / 3041) after the retry budget ran out."""


class StoreError(MessagingError):
    """Base class for store errors."""


class StoreUnavailableError(StoreError):
    """The database cannot be reached or is not writable; callers answer 503 / retry later."""


class SchemaOutdatedError(StoreError):
    """The schema is older than this package: run ``airflow-messaging db upgrade``."""
