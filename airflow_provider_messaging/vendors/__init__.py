"""The vendor registry: every vendor described once, found by the receiver, the Messages view and the CLI.

A vendor is a :class:`VendorSpec`: its name, the dotted paths of its hook and operators, and the
path of its callback adapter (:class:`~airflow_provider_messaging.receiver.vendors.CallbackAdapter`:
routes, verification, parsing of delivery and inbound callbacks). Paths are strings, so reading the
registry imports nothing heavy (the CLI and DAG files may read it); an adapter is imported when the
receiver first needs it.

The built-in vendors are listed in :data:`BUILTIN`. Another package adds a vendor without editing
this one, through the entry-point group ``airflow_provider_messaging.vendors`` (each entry point names
a ``VendorSpec``), or at run time with :func:`register_vendor` (tests). See ``docs/adding-a-vendor.md``.
"""

from __future__ import annotations

import importlib
import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_messaging.receiver.vendors import CallbackAdapter

log = logging.getLogger(__name__)

#: Entry-point group through which installed packages add vendors.
ENTRY_POINT_GROUP = "airflow_provider_messaging.vendors"


def import_path(path: str) -> Any:
    """The object at ``package.module:attr`` or ``package.module.attr``."""
    module, sep, attr = path.partition(":")
    if not sep:
        module, _, attr = path.rpartition(".")
    return getattr(importlib.import_module(module), attr)


@dataclass(frozen=True)
class VendorSpec:
    """One vendor, as every layer finds it.

    :param name: lower-case id: the ``vendor`` column of the store, the route prefix (``/{name}/status``).
    :param title: the name people read (route summaries, the Messages view).
    :param adapter: ``module:attr`` of its callback adapter (a class or an instance).
    :param hook: ``module:Class`` of its hook.
    :param operators: ``module:Class`` of its send operators.
    :param connection_type: its Airflow connection type.
    """

    name: str
    title: str
    adapter: str
    hook: str = ""
    operators: tuple[str, ...] = ()
    connection_type: str = ""
    _loaded: list[Any] = field(default_factory=list, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.name or self.name != self.name.strip().lower() or "/" in self.name:
            raise ValueError(f"vendor name must be lower-case, without spaces or '/': {self.name!r}")

    def load_adapter(self) -> CallbackAdapter:
        """The callback adapter (imported once, then cached)."""
        if not self._loaded:
            found = import_path(self.adapter)
            adapter = found() if isinstance(found, type) else found
            if adapter.vendor != self.name:
                raise ValueError(f"the adapter {self.adapter} is for vendor {adapter.vendor!r}, not {self.name!r}")
            self._loaded.append(adapter)
        loaded: CallbackAdapter = self._loaded[0]
        return loaded


BUILTIN: tuple[VendorSpec, ...] = (
    VendorSpec(
        name="telesign",
        title="Telesign",
        adapter="airflow_provider_messaging.receiver.vendors.telesign:TelesignCallbacks",
        hook="airflow_provider_messaging.hooks.telesign:TelesignHook",
        operators=tuple(
            f"airflow_provider_messaging.operators.telesign:{name}"
            for name in (
                "TelesignSendOperator",
                "TelesignRcsCallButtonOperator",
                "TelesignRcsLinkButtonOperator",
                "TelesignWhatsAppFileOperator",
                "TelesignSmsOperator",
            )
        ),
        connection_type="telesign",
    ),
    VendorSpec(
        name="aerialink",
        title="Aerialink",
        adapter="airflow_provider_messaging.receiver.vendors.aerialink:AerialinkCallbacks",
        hook="airflow_provider_messaging.hooks.aerialink:AerialinkHook",
        operators=tuple(
            f"airflow_provider_messaging.operators.aerialink:AerialinkRcs{kind}Operator"
            for kind in ("Text", "Media", "Card", "Carousel")
        ),
        connection_type="aerialink",
    ),
)

_lock = threading.Lock()
_registered: dict[str, VendorSpec] = {}
_entry_points_read = False


def _read_entry_points() -> None:
    from importlib.metadata import entry_points

    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            spec = point.load()
            if callable(spec) and not isinstance(spec, VendorSpec):
                spec = spec()
        except Exception:  # one broken plugin must not take the receiver down
            log.exception("vendor entry point %s could not be loaded", point.name)
            continue
        if not isinstance(spec, VendorSpec):
            log.error("vendor entry point %s does not name a VendorSpec", point.name)
            continue
        if spec.name in _registered:
            log.error("vendor entry point %s: vendor %r is already registered", point.name, spec.name)
            continue
        _registered[spec.name] = spec


def _ensure_loaded() -> None:
    global _entry_points_read
    with _lock:
        if _entry_points_read:
            return
        for spec in BUILTIN:
            _registered.setdefault(spec.name, spec)
        _read_entry_points()
        _entry_points_read = True


def reload_vendors() -> None:
    """Read the built-in vendors and the entry points again, dropping vendors added at run time."""
    global _entry_points_read
    with _lock:
        _registered.clear()
        _entry_points_read = False
    _ensure_loaded()


def register_vendor(spec: VendorSpec, *, replace: bool = False) -> VendorSpec:
    """Add a vendor at run time (tests, embedding); the receiver apps built afterwards serve it."""
    _ensure_loaded()
    with _lock:
        if spec.name in _registered and not replace:
            raise ValueError(f"vendor {spec.name!r} is already registered")
        _registered[spec.name] = spec
    return spec


def unregister_vendor(name: str) -> None:
    """Remove a vendor added with :func:`register_vendor` (built-in vendors stay)."""
    _ensure_loaded()
    with _lock:
        if name in {spec.name for spec in BUILTIN}:
            raise ValueError(f"{name!r} is a built-in vendor")
        _registered.pop(name, None)


def vendors() -> tuple[VendorSpec, ...]:
    """Every registered vendor: the built-in ones first, then the others in registration order."""
    _ensure_loaded()
    with _lock:
        return tuple(_registered.values())


def vendor_names() -> tuple[str, ...]:
    return tuple(spec.name for spec in vendors())


def get_vendor(name: str) -> VendorSpec:
    """The vendor called ``name``; ``KeyError`` naming the known ones otherwise."""
    for spec in vendors():
        if spec.name == name:
            return spec
    raise KeyError(f"unknown vendor {name!r}; known vendors: {', '.join(vendor_names())}")


def find_vendor(name: str) -> VendorSpec | None:
    """The vendor called ``name``, or None."""
    try:
        return get_vendor(name)
    except KeyError:
        return None
