"""The post life cycle as one pure function: which action moves which status where, for whom."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from beat.errors import Conflict, NotAllowed


class PostStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    PENDING_REVIEW = "pending-review"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"
    EXPIRED = "expired"


class Action(StrEnum):
    SUBMIT = "submit"  # the author sends a draft (or a new post) on its way
    HOLD = "hold"  # the checks, the policy or an area hold send it to the desk
    PASS = "pass"  # noqa: S105 - nothing stopped it: approved without review
    APPROVE = "approve"
    EDIT_APPROVE = "edit-approve"
    REJECT = "reject"
    ESCALATE = "escalate"
    SCHEDULE = "schedule"  # approved: queued for its publication time
    PUBLISH = "publish"
    EXPIRE = "expire"  # its time passed unpublished: back to the desk
    EDIT = "edit"  # the author changes it before publication
    WITHDRAW = "withdraw"


class Actor(StrEnum):
    """Who acts, as the rules see them."""

    AUTHOR = "author"
    COMMS = "comms"  # a comms user of the post's force (never the author)
    SYSTEM = "system"  # checks, scheduler, publisher


S, A, W = PostStatus, Action, Actor

# (from, action) -> (to, who may). Anything not here is not a move.
_MOVES: dict[tuple[PostStatus, Action], tuple[PostStatus, frozenset[Actor]]] = {
    (S.DRAFT, A.SUBMIT): (S.SUBMITTED, frozenset({W.AUTHOR})),
    (S.DRAFT, A.EDIT): (S.DRAFT, frozenset({W.AUTHOR})),
    (S.DRAFT, A.WITHDRAW): (S.WITHDRAWN, frozenset({W.AUTHOR})),
    (S.SUBMITTED, A.HOLD): (S.PENDING_REVIEW, frozenset({W.SYSTEM})),
    (S.SUBMITTED, A.PASS): (S.APPROVED, frozenset({W.SYSTEM})),
    (S.PENDING_REVIEW, A.APPROVE): (S.APPROVED, frozenset({W.COMMS})),
    (S.PENDING_REVIEW, A.EDIT_APPROVE): (S.APPROVED, frozenset({W.COMMS})),
    (S.PENDING_REVIEW, A.REJECT): (S.REJECTED, frozenset({W.COMMS})),
    (S.PENDING_REVIEW, A.ESCALATE): (S.PENDING_REVIEW, frozenset({W.COMMS})),
    (S.PENDING_REVIEW, A.EDIT): (S.SUBMITTED, frozenset({W.AUTHOR})),
    (S.PENDING_REVIEW, A.WITHDRAW): (S.WITHDRAWN, frozenset({W.AUTHOR, W.COMMS})),
    (S.APPROVED, A.SCHEDULE): (S.SCHEDULED, frozenset({W.SYSTEM})),
    (S.APPROVED, A.EDIT): (S.SUBMITTED, frozenset({W.AUTHOR})),
    (S.APPROVED, A.WITHDRAW): (S.WITHDRAWN, frozenset({W.AUTHOR, W.COMMS})),
    (S.APPROVED, A.EXPIRE): (S.EXPIRED, frozenset({W.SYSTEM})),
    (S.SCHEDULED, A.PUBLISH): (S.PUBLISHED, frozenset({W.SYSTEM})),
    (S.SCHEDULED, A.EXPIRE): (S.EXPIRED, frozenset({W.SYSTEM})),
    (S.SCHEDULED, A.EDIT): (S.SUBMITTED, frozenset({W.AUTHOR})),
    (S.SCHEDULED, A.WITHDRAW): (S.WITHDRAWN, frozenset({W.AUTHOR, W.COMMS})),
    # A late post is never sent unnoticed: it waits on the desk again.
    (S.EXPIRED, A.APPROVE): (S.APPROVED, frozenset({W.COMMS})),
    (S.EXPIRED, A.EDIT_APPROVE): (S.APPROVED, frozenset({W.COMMS})),
    (S.EXPIRED, A.REJECT): (S.REJECTED, frozenset({W.COMMS})),
    (S.EXPIRED, A.ESCALATE): (S.EXPIRED, frozenset({W.COMMS})),
    (S.EXPIRED, A.EDIT): (S.SUBMITTED, frozenset({W.AUTHOR})),
    (S.EXPIRED, A.WITHDRAW): (S.WITHDRAWN, frozenset({W.AUTHOR, W.COMMS})),
    # After publication only comms take a post down (the author asks them); the author's
    # edit is a correction, which leaves the public until it has passed the checks again.
    (S.PUBLISHED, A.WITHDRAW): (S.WITHDRAWN, frozenset({W.COMMS})),
    (S.PUBLISHED, A.EDIT): (S.SUBMITTED, frozenset({W.AUTHOR})),
    (S.REJECTED, A.EDIT): (S.SUBMITTED, frozenset({W.AUTHOR})),
}

# Statuses a moderator works on; the desk's queue.
ON_THE_DESK = frozenset({S.PENDING_REVIEW, S.EXPIRED})
# Nothing moves out of these.
FINAL = frozenset({S.WITHDRAWN})
# Seen by the public.
PUBLIC = frozenset({S.PUBLISHED})


@dataclass(frozen=True)
class Move:
    before: PostStatus
    action: Action
    after: PostStatus


def transition(status: PostStatus, action: Action, actor: Actor) -> Move:
    """The move `actor` makes with `action` from `status`.

    Conflict when the action makes no sense in this status; NotAllowed when it does but
    not for this actor.
    """
    move = _MOVES.get((status, action))
    if move is None:
        raise Conflict(f"a {status.value} post cannot be sent to {action.value}")
    after, allowed = move
    if actor not in allowed:
        raise NotAllowed(f"the {actor.value} may not {action.value} a {status.value} post")
    return Move(status, action, after)


def allowed_actions(status: PostStatus, actor: Actor) -> list[Action]:
    """What `actor` may do next, in a stable order (for the app's buttons)."""
    return [a for a in Action if (status, a) in _MOVES and actor in _MOVES[(status, a)][1]]
