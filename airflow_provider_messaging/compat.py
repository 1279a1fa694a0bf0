"""Every Airflow name this provider uses, resolved for the running Airflow (3.1, 3.2 and 3.3).

The one place that knows where Airflow keeps things: some names moved between minors (the task
exceptions reached ``airflow.sdk.exceptions`` and ``conf`` reached ``airflow.sdk`` in 3.2), so the
rest of the package imports them from here and never branches on the Airflow version itself::

    from airflow_provider_messaging.compat import AirflowFailException, BaseOperator

Importing this module costs nothing: a name is imported from Airflow the first time it is used
(PEP 562), so the standalone receiver and the CLI do not load Airflow for names they never touch,
and a DAG file pays only for what its operators need. The branch is on the installed version, as in
the official providers' ``version_compat`` modules, not on ``ImportError``: a broken Airflow install
fails loudly instead of silently picking the other path.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING, Any

#: Oldest supported Airflow (``pyproject.toml`` refuses older ones at install time).
MIN_AIRFLOW = (3, 1)

# name -> (module on Airflow 3.2+, module on Airflow 3.1); the 3.1 modules still work on 3.2+ but
# warn (DeprecatedImportWarning), which is why the newer home is preferred where it exists.
_MOVED: dict[str, tuple[str, str]] = {
    "AirflowException": ("airflow.sdk.exceptions", "airflow.exceptions"),
    "AirflowFailException": ("airflow.sdk.exceptions", "airflow.exceptions"),
    "AirflowSkipException": ("airflow.sdk.exceptions", "airflow.exceptions"),
    "AirflowSensorTimeout": ("airflow.sdk.exceptions", "airflow.exceptions"),
    "TaskDeferred": ("airflow.sdk.exceptions", "airflow.exceptions"),
    "conf": ("airflow.sdk", "airflow.configuration"),
    # moved in 3.2 (apache/airflow#55139, #56109); `airflow-messaging preview` parses a DAG file
    "DagBag": ("airflow.dag_processing.dagbag", "airflow.models.dagbag"),
}

# Names at the same place in every supported minor.
_STABLE: dict[str, str] = {
    "BaseHook": "airflow.sdk",
    "BaseNotifier": "airflow.sdk",
    "BaseOperator": "airflow.sdk",
    "BaseSensorOperator": "airflow.sdk",
    "PokeReturnValue": "airflow.sdk",
    "Context": "airflow.sdk",
    "DAG": "airflow.sdk",
    "Asset": "airflow.sdk",
    "AssetWatcher": "airflow.sdk",
    "mask_secret": "airflow.sdk.log",
    # Triggers are core classes, not task-SDK ones: there is no airflow.sdk home for them (3.1-3.3).
    "BaseTrigger": "airflow.triggers.base",
    "TriggerEvent": "airflow.triggers.base",
    "BaseEventTrigger": "airflow.triggers.base",
    "AirflowPlugin": "airflow.plugins_manager",
    # a send whose recipient's window is closed defers on it (standard provider, shipped with Airflow 3)
    "DateTimeTrigger": "airflow.providers.standard.triggers.temporal",
    "Connection": "airflow.models.connection",
    # the API server's auth manager, used by the Messages view to check Airflow's JWT
    "get_auth_manager": "airflow.api_fastapi.app",
    "init_auth_manager": "airflow.api_fastapi.app",
    "AccessView": "airflow.api_fastapi.auth.managers.models.resource_details",
    "resolve_user_from_token": "airflow.api_fastapi.core_api.security",
}

if TYPE_CHECKING:  # what type checkers see: the newest layout (the one the main suite runs on)
    from airflow.api_fastapi.app import get_auth_manager, init_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import AccessView
    from airflow.api_fastapi.core_api.security import resolve_user_from_token
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.connection import Connection
    from airflow.plugins_manager import AirflowPlugin
    from airflow.providers.standard.triggers.temporal import DateTimeTrigger
    from airflow.sdk import (
        DAG,
        Asset,
        AssetWatcher,
        BaseHook,
        BaseNotifier,
        BaseOperator,
        BaseSensorOperator,
        Context,
        PokeReturnValue,
        conf,
    )
    from airflow.sdk.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowSensorTimeout,
        AirflowSkipException,
        TaskDeferred,
    )
    from airflow.sdk.log import mask_secret
    from airflow.triggers.base import BaseEventTrigger, BaseTrigger, TriggerEvent

__all__ = [
    "DAG",
    "AccessView",
    "AirflowException",
    "AirflowFailException",
    "AirflowPlugin",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "Asset",
    "AssetWatcher",
    "BaseEventTrigger",
    "BaseHook",
    "BaseNotifier",
    "BaseOperator",
    "BaseSensorOperator",
    "BaseTrigger",
    "Connection",
    "Context",
    "DagBag",
    "DateTimeTrigger",
    "PokeReturnValue",
    "TaskDeferred",
    "TriggerEvent",
    "airflow_version",
    "at_least",
    "check_supported",
    "conf",
    "get_auth_manager",
    "init_auth_manager",
    "mask_secret",
    "resolve_user_from_token",
    "supports",
]


@cache
def airflow_version() -> tuple[int, int, int]:
    """The installed Airflow's ``(major, minor, micro)``, read from its distribution (Airflow not imported)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as distribution_version

    from packaging.version import Version

    try:
        raw = distribution_version("apache-airflow-core")
    except PackageNotFoundError:  # an Airflow not installed from its split distributions: ask it
        from airflow import __version__ as raw
    version = Version(raw)
    return version.major, version.minor, version.micro


def at_least(major: int, minor: int) -> bool:
    """Whether the running Airflow is ``major.minor`` or newer."""
    return airflow_version()[:2] >= (major, minor)


#: What needs a newer Airflow than the oldest supported one: feature -> first minor that has it.
FEATURES_SINCE: dict[str, tuple[int, int]] = {
    # conn-fields / ui-field-behaviour in get_provider_info(): 3.1 ignores them, so its connection form
    # shows the plain fields (the extras still work when typed into the JSON "Extra" field).
    "declarative_connection_fields": (3, 2),
}


def supports(feature: str) -> bool:
    """Whether the running Airflow has ``feature`` (a key of :data:`FEATURES_SINCE`)."""
    return at_least(*FEATURES_SINCE[feature])


def check_supported(version: tuple[int, int, int] | None = None) -> None:
    """Raise a clear error on an Airflow older than :data:`MIN_AIRFLOW` (installed with ``--no-deps``,
    say). The package's ``__init__`` calls it, so a DAG file importing any of our modules fails to parse
    with this message instead of a traceback from deep inside at run time."""
    version = version or airflow_version()
    if version[:2] < MIN_AIRFLOW:
        found = ".".join(map(str, version))
        needed = ".".join(map(str, MIN_AIRFLOW))
        raise ImportError(f"airflow-provider-messaging needs Airflow {needed} or newer; this is Airflow {found}")


def _resolve(name: str) -> Any:
    if name in _MOVED:
        new, old = _MOVED[name]
        module = new if at_least(3, 2) else old
    elif name in _STABLE:
        module = _STABLE[name]
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        value = _resolve(name)
        globals()[name] = value  # later lookups skip __getattr__
        return value
