"""Contract fixtures: the app's test client, with every call checked against openapi.yaml."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient
from openapi_core import OpenAPI

from tests.contract.validating import ContractClient, load_spec


@pytest.fixture(scope="session")
def contract() -> OpenAPI:
    spec = load_spec()
    spec.check_spec()
    return spec


@pytest.fixture
def contract_client(client: TestClient, contract: OpenAPI) -> ContractClient:
    """The real app over real HTTP; a call that breaks the contract fails the test."""
    return ContractClient(client, contract)
