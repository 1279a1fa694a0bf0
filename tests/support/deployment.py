"""A real Airflow deployment of the provider, as a user runs it: the reusable part of tests/deployment/.

- ``build_wheel``: ``pip wheel --no-deps`` of a copy of the checkout (building in place would leave
  ``build/`` and ``*.egg-info`` behind, and an egg-info next to the editable install makes Airflow see the
  distribution twice).
- ``install_venv``: a separate virtualenv with that wheel installed by pip. Its dependencies are the
  ones of the project's ``.venv``, linked in one symlink per top-level entry (everything but the editable
  install of this package): about 1 s instead of ~26 s for resolving and installing them again from the
  pip cache (``MESSAGING_DEPLOYMENT_INSTALL=full`` does the full ``pip install <wheel>`` instead).
- ``Deployment``: ``airflow db migrate``, then ``airflow api-server``, ``scheduler``, ``dag-processor``,
  ``triggerer`` (LocalExecutor, parallelism 4, SQLite) and ``airflow-messaging sandbox`` posting its
  callbacks to the receiver mounted in the API server under ``/messaging``. Every process runs in its
  own session (process group); ``stop()`` ends each group (SIGTERM, then SIGKILL) and is also registered
  with ``atexit``, so no process outlives the test run even when a test or the fixture fails.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import json
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.support.ports import free_port
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
# What a build of the package needs from the checkout (see pyproject.toml, setup.py and MANIFEST.in).
BUILD_INPUTS = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "airflow_provider_messaging", "example_dags")
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
ADMIN = ("admin", "admin-pw-" + secrets.token_hex(4))


def build_wheel(out: Path, root: Path = ROOT) -> Path:
    """Build the package's wheel from a copy of ``root`` into ``out``; return its path."""
    source = out / "source"
    source.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in BUILD_INPUTS:
        path = root / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=ignore)
        else:
            shutil.copy2(path, source / name)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out)]
    result = subprocess.run([*command, str(source)], capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"pip wheel failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    (wheel,) = out.glob("airflow_provider_messaging-*.whl")
    return wheel


def _site_packages(python: Path) -> Path:
    path = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
        cwd=python.parent,
    ).stdout.strip()
    return Path(path)


def install_venv(wheel: Path, venv: Path, *, full: bool | None = None) -> Path:
    """A virtualenv at ``venv`` with ``wheel`` installed by pip; returns its python."""
    if full is None:
        full = os.environ.get("MESSAGING_DEPLOYMENT_INSTALL") == "full"
    base_python = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base_python, "-m", "venv", *([] if full else ["--without-pip"]), str(venv)], check=True)
    python = venv / "bin" / "python"
    if not full:
        # The dependencies of the project's .venv, minus this package's editable install.
        ours = ("__editable__", "airflow_provider_messaging", "__pycache__")
        dev_site = Path(sysconfig.get_paths()["purelib"])
        site = _site_packages(python)
        for entry in dev_site.iterdir():
            if not entry.name.startswith(ours):
                (site / entry.name).symlink_to(entry)
    command = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    result = subprocess.run(
        [*command, *([] if full else ["--no-deps", "--no-index"]), str(wheel)],
        capture_output=True,
        text=True,
        cwd=venv,
    )
    if result.returncode != 0:
        raise RuntimeError(f"pip install of the wheel failed:\n{result.stderr[-4000:]}")
    return python


def installed_package(python: Path) -> Path:
    """Where ``python`` imports this package from (in a wheel install: its site-packages)."""
    code = "import airflow_provider_messaging as p, os; print(os.path.dirname(p.__file__))"
    found = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True, cwd=python.parent)
    return Path(found.stdout.strip())


@dataclass
class Secrets:
    """Credentials of this deployment, random so that a leak is recognisable in any log."""

    telesign_api_key: str = field(default_factory=lambda: base64.b64encode(secrets.token_bytes(24)).decode())
    aerialink_password: str = field(default_factory=lambda: "al-" + secrets.token_urlsafe(18))
    callback_token: str = field(default_factory=lambda: "cb-" + secrets.token_urlsafe(18))

    def values(self) -> list[str]:
        return [self.telesign_api_key, self.aerialink_password, self.callback_token]


class Deployment:
    """Airflow's components, the sandbox and the API client of one throwaway Airflow installation."""

    def __init__(self, python: Path, work: Path, dags: list[Path], *, parallelism: int = 4):
        self.python = python
        self.bin = python.parent
        self.home = work / "airflow-home"
        self.logs = work / "process-logs"
        for path in (self.home / "dags", self.logs):
            path.mkdir(parents=True, exist_ok=True)
        for dag in dags:
            shutil.copy(dag, self.home / "dags" / dag.name)
        self.secrets = Secrets()
        self.api_port, self.sandbox_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.api_port}"
        self.sandbox_url = f"http://127.0.0.1:{self.sandbox_port}"
        passwords = work / "passwords.json"
        passwords.write_text(json.dumps({ADMIN[0]: ADMIN[1]}))
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PYTHON"))}
        self.env = {
            **inherited,
            "PATH": f"{self.bin}{os.pathsep}{inherited.get('PATH', '')}",
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.home / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(parallelism),
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN[0]}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__MESSAGING__STORE_URL": f"sqlite:///{self.home / 'messaging.db'}",
            "AIRFLOW__MESSAGING__POLL_INTERVAL": "0.5",
        }
        self.sandbox_args = [
            "--port",
            str(self.sandbox_port),
            "--receiver-url",
            f"{self.url}/messaging",
            "--callback-token",
            self.secrets.callback_token,
            "--telesign-api-key",
            self.secrets.telesign_api_key,
            "--aerialink-password",
            self.secrets.aerialink_password,
        ]
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.escaped: list[int] = []
        self._token: str | None = None
        atexit.register(self.stop)

    # -- processes ------------------------------------------------------------------------------
    def run(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        """A command of the installation (``airflow ...`` or ``airflow-messaging ...``), to completion."""
        command = [str(self.python), "-m", "airflow", *args[1:]] if args[0] == "airflow" else [str(self.bin / args[0])]
        if args[0] != "airflow":
            command += args[1:]
        return subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=timeout, cwd=self.home)

    def _start(self, name: str, command: list[str]) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        try:
            self.procs[name] = subprocess.Popen(
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=self.home
            )
        finally:
            log.close()

    def start(self, timeout: float = 180) -> Deployment:
        """Migrate Airflow's database, apply the sandbox's settings, start everything, wait until healthy."""
        migrate = self.run("airflow", "db", "migrate", timeout=300)
        if migrate.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{migrate.stderr[-4000:]}")
        printed = self.run("airflow-messaging", "sandbox", *self.sandbox_args, "--print-env")
        if printed.returncode != 0:
            raise RuntimeError(f"sandbox --print-env failed:\n{printed.stderr}")
        for line in printed.stdout.splitlines():  # `export NAME='value'`, as a shell would read it
            name, _, value = shlex.split(line)[1].partition("=")
            self.env[name] = value
        self._start("sandbox", [str(self.bin / "airflow-messaging"), "sandbox", *self.sandbox_args])
        python_airflow = [str(self.python), "-m", "airflow"]
        self._start("api-server", [*python_airflow, "api-server", "-H", "127.0.0.1", "-p", str(self.api_port)])
        for component in COMPONENTS[1:]:
            self._start(component, [*python_airflow, component])
        try:
            wait_for(self._healthy, timeout, "Airflow's components and the sandbox to be healthy", interval=1)
        except TimeoutError as exc:
            raise RuntimeError(f"{exc}\n{self.log_tails()}") from None
        return self

    def _healthy(self) -> bool:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log_tail(name)}")
        try:
            health = requests.get(f"{self.url}/api/v2/monitor/health", timeout=5).json()
            sandbox = requests.get(f"{self.sandbox_url}/sandbox/health", timeout=5)
        except (requests.RequestException, ValueError):
            return False
        parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
        return sandbox.ok and all((health.get(p) or {}).get("status") == "healthy" for p in parts)

    def stop(self) -> None:
        """SIGTERM to each process group, then SIGKILL to what is left. Safe to call twice."""
        for proc in self.procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        for proc in self.procs.values():  # workers, log servers, a component that ignored SIGTERM
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
        self.escaped = self.leftovers()  # left their process group: killed too, and reported by the fixture
        for pid in self.escaped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def leftovers(self) -> list[int]:
        """Pids of processes still running in this deployment's AIRFLOW_HOME (every process started here,
        and whatever they started, runs there: a process that left its group is found too)."""
        found = []
        for proc_dir in Path("/proc").iterdir():
            if proc_dir.name.isdigit():
                with contextlib.suppress(OSError):
                    if Path(os.readlink(proc_dir / "cwd")) == self.home:
                        found.append(int(proc_dir.name))
        return found

    def alive_groups(self) -> list[str]:
        """Names of the started processes whose group still has a member."""
        alive = []
        for name, proc in self.procs.items():
            try:
                os.killpg(proc.pid, 0)
                alive.append(name)
            except ProcessLookupError:
                pass
            except PermissionError:
                alive.append(name)
        return alive

    def log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def log_tails(self) -> str:
        return "\n".join(f"--- {name}\n{self.log_tail(name)}" for name in self.procs)

    # -- REST API -------------------------------------------------------------------------------
    def token(self) -> str:
        if self._token is None:
            response = requests.post(
                f"{self.url}/auth/token", json={"username": ADMIN[0], "password": ADMIN[1]}, timeout=30
            )
            response.raise_for_status()
            self._token = str(response.json()["access_token"])
        return self._token

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """An authenticated call of Airflow's REST API (``/api/v2`` + path); returns the JSON body."""
        headers = {"Authorization": f"Bearer {self.token()}", **kwargs.pop("headers", {})}
        response = requests.request(method, f"{self.url}/api/v2{path}", headers=headers, timeout=60, **kwargs)
        if not response.ok:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text[:2000]}")
        return response.json() if response.content else None

    def sandbox(self, method: str, path: str) -> Any:
        response = requests.request(method, f"{self.sandbox_url}/sandbox{path}", timeout=30)
        response.raise_for_status()
        return response.json()
