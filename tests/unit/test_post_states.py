"""Every status x action x actor: the post life cycle, exhaustively."""

from __future__ import annotations

import itertools

import pytest

from beat.errors import Conflict, NotAllowed
from beat.post_states import Action, Actor, PostStatus, allowed_actions, transition

S, A, W = PostStatus, Action, Actor

# The life cycle as the issue and the desk describe it, written out move by move.
ALLOWED = {
    (S.DRAFT, A.SUBMIT, W.AUTHOR): S.SUBMITTED,
    (S.DRAFT, A.EDIT, W.AUTHOR): S.DRAFT,
    (S.DRAFT, A.WITHDRAW, W.AUTHOR): S.WITHDRAWN,
    (S.SUBMITTED, A.HOLD, W.SYSTEM): S.PENDING_REVIEW,
    (S.SUBMITTED, A.PASS, W.SYSTEM): S.APPROVED,
    (S.PENDING_REVIEW, A.APPROVE, W.COMMS): S.APPROVED,
    (S.PENDING_REVIEW, A.EDIT_APPROVE, W.COMMS): S.APPROVED,
    (S.PENDING_REVIEW, A.REJECT, W.COMMS): S.REJECTED,
    (S.PENDING_REVIEW, A.ESCALATE, W.COMMS): S.PENDING_REVIEW,
    (S.PENDING_REVIEW, A.EDIT, W.AUTHOR): S.SUBMITTED,
    (S.PENDING_REVIEW, A.WITHDRAW, W.AUTHOR): S.WITHDRAWN,
    (S.PENDING_REVIEW, A.WITHDRAW, W.COMMS): S.WITHDRAWN,
    (S.APPROVED, A.SCHEDULE, W.SYSTEM): S.SCHEDULED,
    (S.APPROVED, A.EXPIRE, W.SYSTEM): S.EXPIRED,
    (S.APPROVED, A.EDIT, W.AUTHOR): S.SUBMITTED,
    (S.APPROVED, A.WITHDRAW, W.AUTHOR): S.WITHDRAWN,
    (S.APPROVED, A.WITHDRAW, W.COMMS): S.WITHDRAWN,
    (S.SCHEDULED, A.PUBLISH, W.SYSTEM): S.PUBLISHED,
    (S.SCHEDULED, A.EXPIRE, W.SYSTEM): S.EXPIRED,
    (S.SCHEDULED, A.EDIT, W.AUTHOR): S.SUBMITTED,
    (S.SCHEDULED, A.WITHDRAW, W.AUTHOR): S.WITHDRAWN,
    (S.SCHEDULED, A.WITHDRAW, W.COMMS): S.WITHDRAWN,
    (S.EXPIRED, A.APPROVE, W.COMMS): S.APPROVED,
    (S.EXPIRED, A.EDIT_APPROVE, W.COMMS): S.APPROVED,
    (S.EXPIRED, A.REJECT, W.COMMS): S.REJECTED,
    (S.EXPIRED, A.ESCALATE, W.COMMS): S.EXPIRED,
    (S.EXPIRED, A.EDIT, W.AUTHOR): S.SUBMITTED,
    (S.EXPIRED, A.WITHDRAW, W.AUTHOR): S.WITHDRAWN,
    (S.EXPIRED, A.WITHDRAW, W.COMMS): S.WITHDRAWN,
    (S.PUBLISHED, A.WITHDRAW, W.COMMS): S.WITHDRAWN,
    (S.PUBLISHED, A.EDIT, W.AUTHOR): S.SUBMITTED,
    (S.REJECTED, A.EDIT, W.AUTHOR): S.SUBMITTED,
}

EVERY = list(itertools.product(S, A, W))


@pytest.mark.parametrize(("status", "action", "actor"), EVERY, ids=lambda v: v.value)
def test_every_combination(status, action, actor):
    expected = ALLOWED.get((status, action, actor))
    if expected is not None:
        move = transition(status, action, actor)
        assert (move.before, move.action, move.after) == (status, action, expected)
        return
    makes_sense_for_someone = any((status, action, w) in ALLOWED for w in W)
    with pytest.raises(NotAllowed if makes_sense_for_someone else Conflict):
        transition(status, action, actor)


def test_withdrawn_is_final():
    assert all(allowed_actions(S.WITHDRAWN, w) == [] for w in W)


def test_after_publication_the_author_can_only_correct():
    assert allowed_actions(S.PUBLISHED, W.AUTHOR) == [A.EDIT]
    assert allowed_actions(S.PUBLISHED, W.COMMS) == [A.WITHDRAW]


def test_no_one_but_the_system_publishes():
    assert {(s, w) for (s, a, w) in ALLOWED if a == A.PUBLISH} == {(S.SCHEDULED, W.SYSTEM)}


def test_every_status_but_withdrawn_has_a_way_out():
    for status in S:
        outs = [a for a in A for w in W if (status, a, w) in ALLOWED]
        assert bool(outs) == (status != S.WITHDRAWN), status
