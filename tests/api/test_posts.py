"""Officers post, comms moderate: the whole path over real HTTP on a real database."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from beat import moderation, posts
from beat.models import AuditEntry, ForceSettings, Post, PostRevision, Role, User
from tests.helpers import ALDERSGATE, BISHOPSGATE, DEMO_FORCE, bearer, create_areas, create_user

OFFICER = "pc.khan@city.police.uk"
COMMS = "comms@city.police.uk"
COMMS_2 = "senior.comms@city.police.uk"
ADMIN = "admin@city.police.uk"
RESIDENT = "resident@example.org"
CLEAN = "Patrolling Aldersgate Street this evening after reports of bike thefts. Lock it up!"
RISKY = "Call me on 07700 900123 if you saw the van in Aldersgate Street last night."
ALDERSGATE_POINT = {"lat": 51.5179, "lng": -0.0971}


@pytest.fixture
async def world(db, demo_areas):
    await create_areas(demo_areas)
    return {
        "officer": await create_user(OFFICER, Role.OFFICER),
        "comms": await create_user(COMMS, Role.COMMS),
        "comms2": await create_user(COMMS_2, Role.COMMS),
        "admin": await create_user(ADMIN, Role.FORCE_ADMIN),
        "resident": await create_user(RESIDENT, Role.RESIDENT),
    }


@pytest.fixture
async def tokens(client, world):
    return {who: await bearer(client, email) for who, email in
            [("officer", OFFICER), ("comms", COMMS), ("comms2", COMMS_2), ("admin", ADMIN), ("resident", RESIDENT)]}  # fmt: skip


async def send(client, headers, body, key=None):
    key = key or str(uuid.uuid4())
    return await client.post("/v1/posts", json=body, headers={**headers, "Idempotency-Key": key})


async def test_a_clean_post_goes_straight_out(client, tokens):
    response = await send(
        client, tokens["officer"], {"text": CLEAN, "neighbourhoods": [ALDERSGATE]}
    )
    assert response.status == 201
    post = await response.json()
    assert post["status"] == "published"
    assert post["risks"] == []
    assert [n["id"] for n in post["neighbourhoods"]] == [ALDERSGATE]
    public = await client.get(f"/v1/posts/{post['id']}")
    assert public.status == 200
    assert set(await public.json()) == {
        "id", "kind", "text", "text_cy", "location_label", "neighbourhoods", "photos", "published_at",
    }  # fmt: skip


async def test_a_risky_post_waits_on_the_desk_with_its_reasons(client, tokens):
    response = await send(
        client, tokens["officer"], {"text": RISKY, "neighbourhoods": [ALDERSGATE]}
    )
    post = await response.json()
    assert post["status"] == "pending-review"
    assert [r["code"] for r in post["risks"]] == ["phone-number"]
    assert post["risks"][0]["matched"] == "07700 900123"
    assert (await client.get(f"/v1/posts/{post['id']}")).status == 404  # not public yet
    queue = await (await client.get("/v1/moderation/queue", headers=tokens["comms"])).json()
    assert [p["id"] for p in queue["items"]] == [post["id"]]
    assert "approve" in queue["items"][0]["actions"]


async def test_comms_edit_and_approve_keeps_the_diff_and_tells_the_officer(client, tokens):
    post = await (
        await send(client, tokens["officer"], {"text": RISKY, "neighbourhoods": [ALDERSGATE]})
    ).json()
    edited = "Did you see the van in Aldersgate Street last night? Call 101 quoting ref 123."
    response = await client.post(
        f"/v1/posts/{post['id']}/edit-approve", headers=tokens["comms"],
        json={"text": edited, "note": "Removed a personal number", "version": post["version"]},
    )  # fmt: skip
    assert response.status == 200
    approved = await response.json()
    assert approved["status"] == "published"
    assert approved["text"] == edited
    assert approved["moderation"]["outcome"] == "edited-and-approved"
    revision = await PostRevision.get(post_id=post["id"])
    assert revision.text == RISKY
    assert "-" + RISKY in revision.diff and "+" + edited in revision.diff
    notes = await (await client.get("/v1/me/notifications", headers=tokens["officer"])).json()
    kinds = [n["kind"] for n in notes["items"]]
    assert "post-edited-and-approved" in kinds
    mine = await (await client.get("/v1/me/posts", headers=tokens["officer"])).json()
    assert mine["items"][0]["moderation"]["note"] == "Removed a personal number"


async def test_reject_needs_a_reason_from_the_forces_list(client, tokens):
    post = await (
        await send(client, tokens["officer"], {"text": RISKY, "neighbourhoods": [ALDERSGATE]})
    ).json()
    bad = await client.post(f"/v1/posts/{post['id']}/reject", headers=tokens["comms"],
                            json={"reason": "meh", "note": "x"})  # fmt: skip
    assert bad.status == 422
    good = await client.post(f"/v1/posts/{post['id']}/reject", headers=tokens["comms"],
                             json={"reason": "identifies-a-person", "note": "No personal numbers."})  # fmt: skip
    assert (await good.json())["status"] == "rejected"
    mine = await (await client.get("/v1/me/posts", headers=tokens["officer"])).json()
    assert mine["items"][0]["moderation"] == {
        "outcome": "rejected", "reason": "identifies-a-person", "note": "No personal numbers.",
        "decided_at": mine["items"][0]["moderation"]["decided_at"],
    }  # fmt: skip
    # The officer fixes it and it goes round again.
    fixed = await client.patch(f"/v1/posts/{post['id']}", headers=tokens["officer"],
                               json={"version": post["version"], "text": CLEAN})  # fmt: skip
    assert (await fixed.json())["status"] == "published"


async def test_no_one_approves_their_own_post(client, tokens, world):
    post = await (
        await send(client, tokens["officer"], {"text": RISKY, "neighbourhoods": [ALDERSGATE]})
    ).json()
    # The officer moves to the comms team; their own post is still not theirs to approve.
    await User.filter(id=world["officer"].id).update(role=Role.COMMS)
    response = await client.post(
        f"/v1/posts/{post['id']}/approve", headers=tokens["officer"], json={}
    )
    assert response.status == 403
    assert (await Post.get(id=post["id"])).status == "pending-review"


async def test_the_same_key_and_body_return_the_same_post(client, tokens):
    key = str(uuid.uuid4())
    body = {"text": CLEAN, "neighbourhoods": [ALDERSGATE]}
    first = await send(client, tokens["officer"], body, key)
    again = await send(client, tokens["officer"], body, key)
    assert (first.status, again.status) == (201, 200)
    assert (await first.json())["id"] == (await again.json())["id"]
    different = await send(client, tokens["officer"], {**body, "text": CLEAN + " Thanks!"}, key)
    assert different.status == 422
    assert (await different.json())["errors"][0]["field"] == "Idempotency-Key"
    assert await Post.all().count() == 1


async def test_concurrent_retries_make_one_post_and_one_created_entry(client, tokens):
    key = str(uuid.uuid4())
    body = {"text": CLEAN, "neighbourhoods": [ALDERSGATE]}
    responses = await asyncio.gather(
        *(send(client, tokens["officer"], body, key) for _ in range(15))
    )
    statuses = sorted(r.status for r in responses)
    assert statuses == [200] * 14 + [201]
    assert len({(await r.json())["id"] for r in responses}) == 1
    assert await Post.all().count() == 1
    assert await AuditEntry.filter(action="created").count() == 1


async def test_a_missing_or_bad_idempotency_key_is_refused(client, tokens):
    for key in (None, "not-a-uuid"):
        headers = dict(tokens["officer"])
        if key:
            headers["Idempotency-Key"] = key
        response = await client.post(
            "/v1/posts", json={"text": CLEAN, "neighbourhoods": [ALDERSGATE]}, headers=headers
        )
        assert response.status == 422
    assert await Post.all().count() == 0


async def test_the_phones_position_suggests_the_area_and_is_never_shown(client, tokens):
    response = await send(client, tokens["officer"], {"text": CLEAN, "location": ALDERSGATE_POINT})
    post = await response.json()
    assert [n["id"] for n in post["neighbourhoods"]] == [ALDERSGATE]
    raw_lat, raw_lng = str(ALDERSGATE_POINT["lat"]), str(ALDERSGATE_POINT["lng"])
    for headers in (tokens["officer"], tokens["comms"], {}):
        text = await (await client.get(f"/v1/posts/{post['id']}", headers=headers)).text()
        assert raw_lat not in text and raw_lng not in text
    exported = await (await client.get("/v1/audit", headers=tokens["comms"])).text()
    assert raw_lat not in exported and raw_lng not in exported
    csv_text = await (await client.get("/v1/audit.csv", headers=tokens["comms"])).text()
    assert raw_lat not in csv_text
    # Kept for the audit record itself.
    created = await AuditEntry.get(action="created", post_id=post["id"])
    assert created.details["gps"] == [ALDERSGATE_POINT["lat"], ALDERSGATE_POINT["lng"]]


async def test_officers_tag_only_their_teams_areas_unless_the_force_widens_it(
    client, tokens, world
):
    response = await send(
        client, tokens["officer"], {"text": CLEAN, "neighbourhoods": [BISHOPSGATE]}
    )
    assert response.status == 403
    widened = await client.patch(f"/v1/forces/{DEMO_FORCE}/settings", headers=tokens["admin"],
                                 json={"officers_post_force_wide": True})  # fmt: skip
    assert widened.status == 200
    response = await send(
        client, tokens["officer"], {"text": CLEAN, "neighbourhoods": [BISHOPSGATE]}
    )
    assert response.status == 201


async def test_an_area_hold_holds_even_clean_posts(client, tokens):
    held = await client.put(f"/v1/areas/{DEMO_FORCE}/{ALDERSGATE}/hold", headers=tokens["comms"],
                            json={"reason": "Operation in progress"})  # fmt: skip
    assert (await held.json())["held"] is True
    post = await (
        await send(client, tokens["officer"], {"text": CLEAN, "neighbourhoods": [ALDERSGATE]})
    ).json()
    assert post["status"] == "pending-review"
    await client.delete(f"/v1/areas/{DEMO_FORCE}/{ALDERSGATE}/hold", headers=tokens["comms"])
    post2 = await (
        await send(client, tokens["officer"], {"text": CLEAN, "neighbourhoods": [ALDERSGATE]})
    ).json()
    assert post2["status"] == "published"


async def test_policies_pre_moderate_all_and_trusted_bypass(client, tokens, world):
    await client.patch(f"/v1/forces/{DEMO_FORCE}/settings", headers=tokens["admin"],
                       json={"moderation_policy": "pre-moderate-all"})  # fmt: skip
    clean = await (
        await send(client, tokens["officer"], {"text": CLEAN, "neighbourhoods": [ALDERSGATE]})
    ).json()
    assert clean["status"] == "pending-review"
    await client.patch(f"/v1/forces/{DEMO_FORCE}/settings", headers=tokens["admin"],
                       json={"moderation_policy": "trusted-bypass"})  # fmt: skip
    risky = await (
        await send(client, tokens["officer"], {"text": RISKY, "neighbourhoods": [ALDERSGATE]})
    ).json()
    assert risky["status"] == "pending-review"
    await User.filter(id=world["officer"].id).update(publish_unreviewed=True)
    trusted = await (
        await send(client, tokens["officer"], {"text": RISKY, "neighbourhoods": [ALDERSGATE]})
    ).json()
    assert trusted["status"] == "published"


async def test_a_publication_delay_holds_patrol_updates_back(client, tokens, clock):
    await client.patch(f"/v1/forces/{DEMO_FORCE}/settings", headers=tokens["admin"],
                       json={"publication_delays": {"patrol": 60}})  # fmt: skip
    post = await (
        await send(
            client,
            tokens["officer"],
            {"text": CLEAN, "neighbourhoods": [ALDERSGATE], "kind": "patrol"},
        )
    ).json()
    assert post["status"] == "scheduled"
    assert await posts.publish_due(clock()) == 0
    clock.advance(minutes=61)
    assert await posts.publish_due(clock()) == 1
    assert (await Post.get(id=post["id"])).status == "published"


async def test_an_approval_that_missed_its_time_expires_back_to_the_desk(client, tokens, clock):
    at = (clock.now.replace(microsecond=0) + __import__("datetime").timedelta(hours=2)).isoformat()
    post = await (
        await send(
            client,
            tokens["officer"],
            {"text": CLEAN, "neighbourhoods": [ALDERSGATE], "publish_at": at},
        )
    ).json()
    assert post["status"] == "scheduled"
    clock.advance(hours=3)  # the publisher never ran (an outage)
    assert await moderation.expire_stale(clock()) == 1
    queue = await (await client.get("/v1/moderation/queue", headers=tokens["comms"])).json()
    assert [(p["id"], p["status"]) for p in queue["items"]] == [(post["id"], "expired")]
    again = await client.post(f"/v1/posts/{post['id']}/approve", headers=tokens["comms"], json={})
    assert (await again.json())["status"] == "published"


async def test_withdraw_before_and_takedown_after_publication(client, tokens):
    pending = await (
        await send(client, tokens["officer"], {"text": RISKY, "neighbourhoods": [ALDERSGATE]})
    ).json()
    mine = await client.post(
        f"/v1/posts/{pending['id']}/withdraw",
        headers=tokens["officer"],
        json={"reason": "Posted too soon"},
    )
    assert (await mine.json())["status"] == "withdrawn"
    live = await (
        await send(client, tokens["officer"], {"text": CLEAN, "neighbourhoods": [ALDERSGATE]})
    ).json()
    author = await client.post(
        f"/v1/posts/{live['id']}/withdraw",
        headers=tokens["officer"],
        json={"reason": "Oops, wrong street"},
    )
    assert author.status == 403
    takedown = await client.post(
        f"/v1/posts/{live['id']}/withdraw", headers=tokens["comms"], json={"reason": "Legal advice"}
    )
    assert (await takedown.json())["status"] == "withdrawn"
    assert (await client.get(f"/v1/posts/{live['id']}")).status == 404
    entry = await AuditEntry.get(post_id=live["id"], action="withdraw")
    assert entry.details["takedown"] is True and entry.reason == "Legal advice"


async def test_welsh_is_required_where_the_force_says_so(client, tokens):
    await client.patch(
        f"/v1/forces/{DEMO_FORCE}/settings", headers=tokens["admin"], json={"require_welsh": True}
    )
    missing = await send(client, tokens["officer"], {"text": CLEAN, "neighbourhoods": [ALDERSGATE]})
    assert missing.status == 422
    both = await send(client, tokens["officer"], {"text": CLEAN, "neighbourhoods": [ALDERSGATE],
                                                  "text_cy": "Patrolio Stryd Aldersgate heno."})  # fmt: skip
    assert (await both.json())["text_cy"] == "Patrolio Stryd Aldersgate heno."


async def test_an_officer_posts_from_a_template(client, tokens):
    made = await client.post(f"/v1/forces/{DEMO_FORCE}/templates", headers=tokens["admin"],
                             json={"title": "Patrol", "body": "Patrolling {street} tonight after reports of {issue}.", "kind": "patrol"})  # fmt: skip
    template = await made.json()
    assert template["placeholders"] == ["street", "issue"]
    listed = await (await client.get("/v1/templates", headers=tokens["officer"])).json()
    assert [t["id"] for t in listed["items"]] == [template["id"]]
    text = template["body"].format(street="Aldersgate Street", issue="bike thefts")
    post = await (await send(client, tokens["officer"], {"text": text, "neighbourhoods": [ALDERSGATE],
                                                          "template_id": template["id"], "kind": "patrol"})).json()  # fmt: skip
    assert post["template_id"] == template["id"]
    assert (await client.get("/v1/templates", headers=tokens["resident"])).status == 403


async def test_escalation_goes_to_another_comms_officer_of_the_force(client, tokens, world):
    post = await (
        await send(client, tokens["officer"], {"text": RISKY, "neighbourhoods": [ALDERSGATE]})
    ).json()
    wrong = await client.post(
        f"/v1/posts/{post['id']}/escalate",
        headers=tokens["comms"],
        json={"to": world["officer"].id},
    )
    assert wrong.status == 422
    ok = await client.post(f"/v1/posts/{post['id']}/escalate", headers=tokens["comms"],
                           json={"to": world["comms2"].id, "note": "Your call"})  # fmt: skip
    assert (await ok.json())["assigned_to"] == world["comms2"].id
    theirs = await (
        await client.get("/v1/moderation/queue?mine=1", headers=tokens["comms2"])
    ).json()
    assert [p["id"] for p in theirs["items"]] == [post["id"]]


async def test_a_stale_version_is_a_conflict(client, tokens):
    post = await (
        await send(client, tokens["officer"], {"text": RISKY, "neighbourhoods": [ALDERSGATE]})
    ).json()
    await client.patch(
        f"/v1/posts/{post['id']}",
        headers=tokens["officer"],
        json={"version": post["version"], "text": RISKY + " Thanks."},
    )
    stale = await client.post(
        f"/v1/posts/{post['id']}/approve",
        headers=tokens["comms"],
        json={"version": post["version"]},
    )
    assert stale.status == 409


async def test_drafts_wait_for_the_officer(client, tokens):
    draft = await (
        await send(
            client,
            tokens["officer"],
            {"text": CLEAN, "neighbourhoods": [ALDERSGATE], "draft": True},
        )
    ).json()
    assert draft["status"] == "draft"
    assert (await client.get("/v1/moderation/queue", headers=tokens["comms"])).status == 200
    sent = await client.post(f"/v1/posts/{draft['id']}/submit", headers=tokens["officer"])
    assert (await sent.json())["status"] == "published"


async def test_the_audit_trail_records_every_move_and_exports_csv(client, tokens):
    post = await (
        await send(client, tokens["officer"], {"text": RISKY, "neighbourhoods": [ALDERSGATE]})
    ).json()
    await client.post(
        f"/v1/posts/{post['id']}/approve", headers=tokens["comms"], json={"note": "fine"}
    )
    trail = await (await client.get(f"/v1/audit?post={post['id']}", headers=tokens["comms"])).json()
    assert [e["action"] for e in trail["items"]] == [
        "created",
        "submit",
        "hold",
        "approve",
        "schedule",
        "publish",
    ]
    assert trail["items"][3]["actor_role"] == "comms"
    csv_response = await client.get(f"/v1/audit.csv?post={post['id']}", headers=tokens["admin"])
    assert csv_response.content_type == "text/csv"
    lines = (await csv_response.text()).strip().split("\r\n")
    assert lines[0].startswith("id,at,force,actor_id")
    assert len(lines) == 7
    assert (await client.get("/v1/audit", headers=tokens["officer"])).status == 403
    assert (await client.get("/v1/audit", headers=tokens["resident"])).status == 403


async def test_only_officers_post(client, tokens):
    for who in ("comms", "admin", "resident"):
        response = await send(client, tokens[who], {"text": CLEAN, "neighbourhoods": [ALDERSGATE]})
        assert response.status == 403, who


async def test_settings_default_and_change_is_audited(client, tokens):
    current = await (
        await client.get(f"/v1/forces/{DEMO_FORCE}/settings", headers=tokens["comms"])
    ).json()
    assert current["moderation_policy"] == "risky-only"
    assert "identifies-a-person" in current["reject_reasons"]
    assert (
        await client.patch(
            f"/v1/forces/{DEMO_FORCE}/settings",
            headers=tokens["comms"],
            json={"require_welsh": True},
        )
    ).status == 403
    await client.patch(
        f"/v1/forces/{DEMO_FORCE}/settings", headers=tokens["admin"], json={"retention_days": 90}
    )
    assert (await ForceSettings.get(force_id=DEMO_FORCE)).retention_days == 90
    entry = await AuditEntry.get(action="settings-changed")
    assert entry.details["after"] == {"retention_days": 90}
    assert json.loads(json.dumps(entry.details))["before"] == {"retention_days": None}


async def test_a_correction_after_publication_goes_through_the_checks_again(client, tokens):
    live = await (
        await send(client, tokens["officer"], {"text": CLEAN, "neighbourhoods": [ALDERSGATE]})
    ).json()
    corrected = await client.patch(
        f"/v1/posts/{live['id']}", headers=tokens["officer"],
        json={"version": live["version"], "text": RISKY},
    )  # fmt: skip
    body = await corrected.json()
    assert (
        body["status"] == "pending-review"
    )  # the risky correction waits; the old text is gone too
    assert (await client.get(f"/v1/posts/{live['id']}")).status == 404
    revision = await PostRevision.get(post_id=live["id"])
    assert (revision.kind, revision.text) == ("correction", CLEAN)
    fixed = await client.patch(
        f"/v1/posts/{live['id']}", headers=tokens["officer"],
        json={"version": body["version"], "text": CLEAN + " Corrected: the patrol is at 8pm."},
    )  # fmt: skip
    assert (await fixed.json())["status"] == "published"


async def test_retention_empties_rejected_and_withdrawn_posts_but_keeps_the_trail(
    client, tokens, clock, settings
):
    from beat import retention

    await client.patch(
        f"/v1/forces/{DEMO_FORCE}/settings", headers=tokens["admin"], json={"retention_days": 30}
    )
    rejected = await (
        await send(client, tokens["officer"], {"text": RISKY, "neighbourhoods": [ALDERSGATE]})
    ).json()
    await client.post(
        f"/v1/posts/{rejected['id']}/reject",
        headers=tokens["comms"],
        json={"reason": "legal-risk", "note": "no"},
    )
    kept = await (
        await send(client, tokens["officer"], {"text": CLEAN, "neighbourhoods": [ALDERSGATE]})
    ).json()
    trail_before = await AuditEntry.filter(post_id=rejected["id"]).count()
    clock.advance(days=29)
    assert await retention.purge(clock(), settings.photos_dir) == 0
    clock.advance(days=2)
    assert await retention.purge(clock(), settings.photos_dir) == 1
    emptied = await Post.get(id=rejected["id"])
    assert emptied.text == retention.REMOVED and emptied.purged_at is not None
    assert (
        RISKY
        not in await (
            await client.get(f"/v1/posts/{rejected['id']}", headers=tokens["officer"])
        ).text()
    )
    assert await AuditEntry.filter(post_id=rejected["id"]).count() == trail_before + 1
    assert (await Post.get(id=kept["id"])).text == CLEAN
    assert await retention.purge(clock(), settings.photos_dir) == 0  # once only


async def test_a_position_outside_every_area_asks_for_a_tag(client, tokens):
    response = await send(
        client, tokens["officer"], {"text": CLEAN, "location": {"lat": 51.5080, "lng": -0.1281}}
    )
    assert response.status == 422
    assert (await response.json())["errors"][0]["field"] == "/location"


async def test_an_empty_settings_change_records_nothing(client, tokens):
    response = await client.patch(
        f"/v1/forces/{DEMO_FORCE}/settings", headers=tokens["admin"], json={}
    )
    assert response.status == 200
    assert await AuditEntry.filter(action="settings-changed").count() == 0
