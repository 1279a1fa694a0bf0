"""Build hook: ship ``example_dags/`` (kept at the repository root) inside the wheel as
``airflow_provider_messaging/example_dags``, so ``airflow-messaging demo`` works from a pip install.
Everything else is declared in pyproject.toml."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

EXAMPLES = Path(__file__).resolve().parent / "example_dags"


class BuildWithExamples(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "airflow_provider_messaging" / "example_dags"
        target.mkdir(parents=True, exist_ok=True)
        for source in sorted(EXAMPLES.glob("*.py")):
            self.copy_file(str(source), str(target / source.name))


setup(cmdclass={"build_py": BuildWithExamples})
