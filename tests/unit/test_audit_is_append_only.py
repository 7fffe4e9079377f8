"""The application never changes or deletes an audit entry: no code path even tries."""

from __future__ import annotations

import ast
from pathlib import Path

BEAT = Path(__file__).resolve().parents[2] / "beat"
WRITES = {"update", "delete", "save", "bulk_update", "select_for_update", "update_or_create"}


def offences(source: str) -> list[str]:
    """Writes to AuditEntry rows: AuditEntry.filter(...).update(...), .delete(), .save() ..."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in WRITES:
            chain = ast.unparse(node.value)
            if "AuditEntry" in chain or "audit_entry" in chain.lower():
                found.append(f"{node.lineno}: {chain}.{node.attr}")
    return found


def test_no_code_updates_or_deletes_audit_entries():
    offenders = []
    for path in BEAT.rglob("*.py"):
        if "migrations" not in path.parts:
            offenders += [f"{path.name}:{o}" for o in offences(path.read_text())]
    assert offenders == []


def test_the_check_sees_an_offence():
    sample = "async def purge():\n    await AuditEntry.filter(id=1).delete()\n"
    assert offences(sample) == ["2: AuditEntry.filter(id=1).delete"]
