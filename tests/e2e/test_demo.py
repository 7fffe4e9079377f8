"""`beat demo` as a newcomer runs it: it starts, the printed login works, locate answers."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def demo(tmp_path: Path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEAT_")}
    env["BEAT_DATA_DIR"] = str(tmp_path / "demo-data")
    log = (tmp_path / "demo.out").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "beat", "demo", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                assert proc.poll() is None, Path(log.name).read_text()
                time.sleep(0.2)
        else:
            raise AssertionError("demo did not start:\n" + Path(log.name).read_text())
        yield base, Path(log.name)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:  # never leave a server behind
            proc.kill()
            proc.wait(timeout=10)
            raise
        finally:
            log.close()


async def test_the_demo_serves_a_working_login_and_locate(demo):
    base, output = demo
    printed = output.read_text()
    password = re.search(r"password for all: (\S+?)\)", printed).group(1)
    officer = re.search(r"officer\s+(\S+@\S+)", printed).group(1)
    assert f"{base}/v1/areas/locate" in printed
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{base}/v1/auth/login", json={"email": officer, "password": password}
        ) as r:
            assert r.status == 200
            token = (await r.json())["access_token"]
        async with http.get(f"{base}/v1/me", headers={"Authorization": f"Bearer {token}"}) as r:
            assert r.status == 200
            assert (await r.json())["email"] == officer
        async with http.get(
            f"{base}/v1/areas/locate", params={"lat": "51.5179", "lng": "-0.0971"}
        ) as r:
            assert (await r.json())["name"] == "Aldersgate"
        async with http.get(
            f"{base}/v1/areas/locate", params={"lat": "51.5080", "lng": "-0.1281"}
        ) as r:
            assert r.status == 404
        async with http.get(f"{base}/healthz") as r:
            assert r.status == 200


async def test_the_printed_feed_shows_posts_and_a_real_crime_card_and_valid_atom(demo):
    """What a newcomer opens first: the feed URL the demo prints, and its Atom feed."""
    import feedparser

    base, output = demo
    printed = output.read_text()
    feed_url = re.search(rf"({re.escape(base)}/v1/areas/\S+/feed)\s", printed).group(1)
    atom_url = re.search(rf"({re.escape(base)}/areas/\S+/feed\.atom)\s", printed).group(1)
    async with aiohttp.ClientSession() as http:
        async with http.get(feed_url) as r:
            assert r.status == 200
            page = await r.json()
        async with http.get(atom_url) as r:
            assert r.status == 200
            assert r.content_type == "application/atom+xml"
            atom = await r.read()
    kinds = [item["type"] for item in page["items"]]
    assert "post" in kinds and "crime_stats" in kinds
    card = next(i for i in page["items"] if i["type"] == "crime_stats")["crime_stats"]
    assert card["month"] == "2017-12"  # the newest of the nine City of London months
    assert card["total"] == sum(card["by_category"].values()) > 0
    assert "Open Government Licence" in page["attribution"]
    assert f'href="{atom_url}"'.encode() in atom  # its self link is where it was fetched
    parsed = feedparser.parse(atom)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    titles = [entry.title for entry in parsed.entries]
    assert any("2017" in t for t in titles)  # a monthly summary
    assert len(parsed.entries) >= 2
