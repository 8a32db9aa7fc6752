"""Admin API: workers and admins — create, disable or enable, change role, chat limit, reset
password. Every change goes to the audit log; an admin cannot lock themselves out."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import select

from handoff import auth, worker_sessions
from handoff.deps import CurrentAdmin, Desk, WorkerId
from handoff.store import conversations as convs
from handoff.store.models import Role, Worker

router = APIRouter(prefix="/api/admin/workers", tags=["admin"])
NoNul = r"^[^\x00]*$"


class WorkerRow(BaseModel):
    id: int
    name: str
    role: str
    presence: str
    disabled: bool
    max_concurrent: int


class NewWorker(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=64, pattern=NoNul)]
    role: Literal["worker", "admin"] = "worker"
    password: Annotated[str, Field(min_length=1, max_length=256, pattern=NoNul)]
    max_concurrent: Annotated[int, Field(ge=1, le=20)] = 5


class Change(BaseModel):
    role: Literal["worker", "admin"] | None = None
    disabled: bool | None = None
    max_concurrent: Annotated[int | None, Field(ge=1, le=20)] = None
    password: Annotated[str | None, Field(min_length=1, max_length=256, pattern=NoNul)] = None


def _row(worker: Worker) -> WorkerRow:
    return WorkerRow(
        id=worker.id,
        name=worker.name,
        role=worker.role.value,
        presence=worker.presence.value,
        disabled=worker.disabled,
        max_concurrent=worker.max_concurrent,
    )


@router.get("", response_model=list[WorkerRow], summary="All workers and admins")
async def list_workers(admin: CurrentAdmin, desk: Desk) -> Any:
    with desk.sessions() as session:
        return [_row(w) for w in session.scalars(select(Worker).order_by(Worker.name))]


@router.post("", response_model=WorkerRow, status_code=201, summary="Create a worker or admin")
async def create(body: NewWorker, admin: CurrentAdmin, desk: Desk) -> Any:
    with desk.sessions.begin() as session:
        try:
            worker = auth.create_worker(session, body.name, body.password, Role(body.role))
        except auth.AuthError as exc:
            raise HTTPException(422, str(exc)) from None
        worker.max_concurrent = body.max_concurrent
        convs.audit(session, "create_worker", worker=admin, detail={"name": worker.name, "role": body.role})
        return _row(worker)


@router.post("/{worker_id}", response_model=WorkerRow, summary="Change role, limit, disable, or reset the password")
async def change(worker_id: WorkerId, body: Change, admin: CurrentAdmin, desk: Desk) -> Any:
    with desk.sessions.begin() as session:
        worker = session.get(Worker, worker_id)
        if worker is None:
            raise HTTPException(404, "Deze medewerker bestaat niet.")
        if worker.id == admin.id and (body.disabled or body.role == "worker"):
            raise HTTPException(409, "Je kunt jezelf niet uitschakelen of je beheerrechten afnemen.")
        changed: dict[str, Any] = {}
        if body.role is not None:
            worker.role = Role(body.role)
            changed["role"] = body.role
        if body.disabled is not None:
            worker.disabled = body.disabled
            changed["disabled"] = body.disabled
        if body.max_concurrent is not None:
            worker.max_concurrent = body.max_concurrent
            changed["max_concurrent"] = body.max_concurrent
        if body.password is not None:
            try:
                worker.password_hash = auth.hash_password(body.password)
            except auth.AuthError as exc:
                raise HTTPException(422, str(exc)) from None
            changed["password"] = "reset"
        ends_sessions = {"role", "disabled", "password"} & set(changed)
        if ends_sessions:  # logged in under the old role or password, or disabled: out now
            worker_sessions.revoke(session, worker_id=worker.id, because=sorted(ends_sessions)[0])
        convs.audit(session, "change_worker", worker=admin, detail={"worker": worker.name, **changed})
        row = _row(worker)
    if ends_sessions:
        desk.bus.publish({"type": "session_revoked", "worker_id": worker_id})
    return row
