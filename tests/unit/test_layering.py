"""Every domain module is under the import-linter contract that keeps it free of adapters."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import beat

ROOT = Path(__file__).resolve().parents[2]
ADAPTERS_AND_ROOTS = {
    "api",
    "social",
    "scheduler",
    "policeuk",
    "push",
    "app",
    "cli",
    "migrations",
    "__main__",
}


def test_every_domain_module_is_checked_by_the_layering_contract():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contract = next(
        c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "forbidden"
    )
    checked = {name.removeprefix("beat.") for name in contract["source_modules"]}
    modules = {m.name for m in pkgutil.iter_modules(beat.__path__)} - ADAPTERS_AND_ROOTS
    assert modules == checked, "add new domain modules to [tool.importlinter] source_modules"
