"""Run one fake as its own process: `python -m tests.fakes x|mastodon|bluesky|policeuk --port N`."""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path

from aiohttp import web

from tests.fakes import FakeService
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.policeuk import FakePoliceUk
from tests.fakes.x import FakeX

USAGE = """\
    --state-file F    write the state as JSON to F on every change (read it with FakeState.load)
    --limit E=N/S     budget for endpoint E: N requests per S seconds (repeatable)

Faults are set over HTTP: `POST /_fake/faults {"op": "window", "args": {"seconds": 5}}`;
`GET /_fake/state` answers the state. Prints `listening on http://HOST:PORT` once it is.
"""

FAKES: dict[str, type[FakeService]] = {
    "x": FakeX,
    "mastodon": FakeMastodon,
    "bluesky": FakeBluesky,
    "policeuk": FakePoliceUk,
}


def parse_limit(value: str) -> tuple[str, tuple[int, float]]:
    endpoint, _, budget = value.partition("=")
    count, _, seconds = budget.partition("/")
    return endpoint, (int(count), float(seconds))


async def serve(fake: FakeService, host: str, port: int) -> None:
    runner = web.AppRunner(fake.app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_host, bound_port = runner.addresses[0][:2]
    print(f"listening on http://{bound_host}:{bound_port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes",
        description=__doc__,
        epilog=USAGE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("platform", choices=sorted(FAKES))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--state-file", type=Path)
    parser.add_argument("--limit", type=parse_limit, action="append", default=[])
    args = parser.parse_args(argv)
    fake = FAKES[args.platform](state_file=args.state_file, limits=dict(args.limit))
    asyncio.run(serve(fake, args.host, args.port))


if __name__ == "__main__":
    main()
