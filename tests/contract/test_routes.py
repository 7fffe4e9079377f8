"""The app's routes and the contract's operations are the same set."""

from __future__ import annotations

from pathlib import Path

import yaml

from beat.app import create_app
from beat.settings import Settings
from tests.contract.validating import SPEC_PATH

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
# For feed readers and browsers, not the app: documented in the README, not in the contract.
NOT_FOR_THE_APP = {("GET", "/areas/{force}/{neighbourhood}/feed.atom")}


def app_routes(settings: Settings) -> set[tuple[str, str]]:
    app = create_app(settings)
    routes = set()
    for route in app.router.routes():
        if route.method == "HEAD":  # aiohttp adds one for every GET
            continue
        assert route.resource is not None
        routes.add((route.method, route.resource.canonical))
    return routes


def spec_routes() -> set[tuple[str, str]]:
    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def test_app_routes_and_contract_operations_are_the_same_set(tmp_path: Path) -> None:
    served = app_routes(Settings(data_dir=tmp_path))
    assert served >= NOT_FOR_THE_APP
    served -= NOT_FOR_THE_APP
    described = spec_routes()
    undocumented = sorted(served - described)
    unserved = sorted(described - served)
    assert not undocumented and not unserved, (
        f"routes the app serves but openapi.yaml does not describe: {undocumented}\n"
        f"operations openapi.yaml describes but the app does not serve: {unserved}"
    )
