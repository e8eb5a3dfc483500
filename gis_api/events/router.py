"""GET /events/stream: case transitions and position changes in the caller's area, as SSE."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from gis_api.auth.dependencies import CurrentUser
from gis_api.auth.service import active_principal, record_audit, token_version
from gis_api.cases.reads import member_of
from gis_api.db.session import SessionDep
from gis_api.errors import AuthenticationError, PermissionDeniedError
from gis_api.events.hub import EventHub
from gis_api.events.stream import Audience, Holder, event_stream
from gis_api.inputs import parse_int

router = APIRouter(prefix="/events", tags=["events"])


def hub_of(request: Request) -> EventHub:
    """The process's single listener, created on first use."""
    hub = getattr(request.app.state, "event_hub", None)
    if not isinstance(hub, EventHub):
        hub = EventHub(request.app.state.engine)
        request.app.state.event_hub = hub
    return hub


def holder_of(sessions: sessionmaker[Session], user_id: int, version: int) -> Holder:
    """The stream's account check: still active, and not disabled (token version) since it began."""

    def valid() -> bool:
        with sessions() as session:
            try:
                active_principal(session, user_id, version)
            except AuthenticationError:
                return False
        return True

    async def still_valid() -> bool:
        return await run_in_threadpool(valid)

    return Holder(user_id, still_valid)


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "server-sent events"},
        401: {"description": "not logged in"},
        403: {"description": "role without live events"},
    },
)
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
    resume = parse_int(last_event_id, "Last-Event-ID", low=0) if last_event_id is not None else after
    member = member_of(session, user.user_id) if user.role.value == "grid_worker" else None
    version = token_version(session, user.user_id)
    record_audit(session, user, "events.stream", f"scope {user.scope_code}", 0)
    session.close()  # the stream may last minutes: give the connection back to the pool now
    body = event_stream(
        hub_of(request),
        request.app.state.session_factory,
        Audience.of(user, member),
        resume,
        max_seconds,
        request.is_disconnected,
        holder_of(request.app.state.session_factory, user.user_id, version),
    )
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(body, media_type="text/event-stream", headers=headers)
