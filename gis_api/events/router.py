"""GET /events/stream: case transitions and position changes in the caller's area, as SSE."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from gis_api.auth.dependencies import CurrentUser
from gis_api.cases.reads import member_of
from gis_api.db.session import SessionDep
from gis_api.errors import InvalidInputError, PermissionDeniedError
from gis_api.events.hub import EventHub
from gis_api.events.stream import Audience, event_stream

router = APIRouter(prefix="/events", tags=["events"])


def hub_of(request: Request) -> EventHub:
    """The process's single listener, created on first use."""
    hub = getattr(request.app.state, "event_hub", None)
    if not isinstance(hub, EventHub):
        hub = EventHub(request.app.state.engine)
        request.app.state.event_hub = hub
    return hub


@router.get("/stream", response_class=StreamingResponse)
async def stream(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
    after: Annotated[int | None, Query(ge=0, le=2**63 - 1, description="resume after this id")] = None,
    max_seconds: Annotated[float, Query(gt=0, le=3600)] = 300,
) -> StreamingResponse:
    """Events the caller may see; resume with Last-Event-ID (or ?after=). The stream ends after
    max_seconds and EventSource clients reconnect by themselves, resuming where they were."""
    if not user.may_work_cases:
        raise PermissionDeniedError(f"role {user.role} may not follow live events")
    if last_event_id is not None and not last_event_id.isdigit():
        raise InvalidInputError(f"Last-Event-ID {last_event_id!r} must be an event id (digits)")
    member = member_of(session, user.user_id) if user.role.value == "grid_worker" else None
    session.close()  # the stream may last minutes: give the connection back to the pool now
    resume = int(last_event_id) if last_event_id is not None else after
    body = event_stream(
        hub_of(request),
        request.app.state.session_factory,
        Audience.of(user, member),
        resume,
        max_seconds,
        request.is_disconnected,
    )
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(body, media_type="text/event-stream", headers=headers)
