"""A folder laid out like the police.uk API, each path with `.json` appended."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from beat.errors import SourceError


def _segment(part: str) -> str:
    # Ids are free-form per force; never let one climb out of the folder.
    encoded = quote(part, safe="-_.~ ")
    if encoded in {"", ".", ".."}:
        raise SourceError(f"unusable path segment {part!r}")
    return encoded


class FolderSource:
    """Reads `{root}/{a}/{b}.json` for the API path `/{a}/{b}`."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise SourceError(f"{root} is not a folder")
        self.root = root

    def path(self, *parts: str) -> Path:
        *dirs, last = [_segment(p) for p in parts]
        return self.root.joinpath(*dirs, f"{last}.json")

    def describe(self, *parts: str) -> str:
        return str(self.path(*parts))

    async def get_json(self, *parts: str) -> Any:
        path = self.path(*parts)
        return await asyncio.to_thread(_read, path)


def _read(path: Path) -> Any:
    try:
        with path.open("rb") as fh:
            return json.load(fh)
    except FileNotFoundError as exc:
        raise SourceError("file not found", location=str(path)) from exc
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"line {exc.lineno}: not valid JSON ({exc.msg})", location=str(path)
        ) from exc
    except UnicodeDecodeError as exc:
        raise SourceError("not UTF-8 text", location=str(path)) from exc
