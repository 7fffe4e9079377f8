"""The validating client catches what it is there to catch (checked on the real app)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from beat.models import Role
from tests.contract.validating import SPEC_PATH, ContractClient, ContractViolation, spec_from_dict
from tests.helpers import create_areas, create_user, login


@pytest.fixture(scope="module")
def spec_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return data


async def test_a_request_that_breaks_the_contract_fails_the_test(contract_client, db):
    with pytest.raises(ContractViolation, match=r"request breaks the contract(.|\n)*lat"):
        await contract_client.get("/v1/areas/locate", params={"lat": "91", "lng": "0"})


async def test_a_request_said_to_break_the_contract_must_break_it(contract_client, db):
    with pytest.raises(ContractViolation, match="the contract accepts it"):
        await contract_client.get(
            "/v1/areas/locate", params={"lat": "1", "lng": "0"}, off_contract=True
        )


async def test_an_undocumented_response_field_fails_the_test(client, spec_data, demo_areas):
    await create_areas(demo_areas)
    await create_user("pc.smith@example.police.uk", Role.OFFICER)
    tokens = await login(client, "pc.smith@example.police.uk")
    narrowed = copy.deepcopy(spec_data)
    user = narrowed["components"]["schemas"]["User"]
    del user["properties"]["display_name"]
    user["required"].remove("display_name")
    api = ContractClient(client, spec_from_dict(narrowed))
    with pytest.raises(ContractViolation, match="display_name"):
        await api.get("/v1/me", token=tokens["access_token"])


async def test_an_undocumented_status_fails_the_test(client, db, spec_data):
    narrowed = copy.deepcopy(spec_data)
    del narrowed["paths"]["/v1/forces/{force}"]["get"]["responses"]["404"]
    api = ContractClient(client, spec_from_dict(narrowed))
    with pytest.raises(ContractViolation, match="404"):
        await api.get("/v1/forces/atlantis")


async def test_a_missing_documented_header_fails_the_test(client, db, spec_data):
    widened = copy.deepcopy(spec_data)
    widened["components"]["headers"]["X-Served-By"] = {
        "required": True,
        "schema": {"type": "string"},
    }
    ok = widened["paths"]["/healthz"]["get"]["responses"]["200"]
    ok["headers"]["X-Served-By"] = {"$ref": "#/components/headers/X-Served-By"}
    api = ContractClient(client, spec_from_dict(widened))
    with pytest.raises(ContractViolation, match="X-Served-By"):
        await api.get("/healthz")
