"""Admin API: office hours, the wijkteam's contact details and the standard replies, edited in
the page instead of in files.

They stay data files in git (`data/gemeente.yml`, `data/canned_replies.yml`): only the lines
that change are rewritten, so comments and the rest of the file stay as they were. The desk
uses new office hours at once; the assistant reads gemeente.yml again when it changes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, HTTPException
from pydantic import AfterValidator, BaseModel, Field

from baken_core.gemeente import gemeente, gemeente_path
from baken_core.paths import data_dir
from handoff.deps import CurrentAdmin, Desk
from handoff.inbox.api import load_canned_replies
from handoff.store import conversations as convs
from handoff.store.office_hours import DAYS, DUTCH_DAYS, HoursError, OfficeHours

router = APIRouter(prefix="/api/admin/settings", tags=["admin"])


def _printable(value: str) -> str:
    """One line of ordinary text: no control characters (YAML refuses some, and a page shows them oddly)."""
    if not value.isprintable():
        raise ValueError("gebruik alleen gewone tekens op één regel")
    return value


def _printable_text(value: str) -> str:
    """Text that may have line breaks, but no other control characters."""
    if not all(line.isprintable() for line in value.replace("\r\n", "\n").split("\n")):
        raise ValueError("gebruik alleen gewone tekens")
    return value


Hours = Annotated[str, Field(max_length=60, pattern=r"^[0-9:, -]*$")]
Line = Annotated[str, Field(max_length=200, pattern=r'^[^"\\]*$'), AfterValidator(_printable)]
CANNED_HEADER = """# Standard replies for workers in the inbox (Dutch, B1). Workers can edit a reply before
# sending it. No amounts or deadlines here: those belong in data/knowledge/ with a source.
# The crisis text is not listed here: the inbox adds it from baken_core/crisis.py, so the
# numbers are the same everywhere. Edited in the admin page (/admin) or here.
"""


class OpeningHours(BaseModel):
    monday: Hours = ""
    tuesday: Hours = ""
    wednesday: Hours = ""
    thursday: Hours = ""
    friday: Hours = ""
    saturday: Hours = ""
    sunday: Hours = ""
    text: Line = ""
    closed_days: Annotated[str, Field(max_length=400, pattern=r"^[0-9, -]*$")] = ""
    open_on_holidays: Line = ""


class Wijkteam(BaseModel):
    name: Line = ""
    phone: Line = ""
    email: Line = ""
    website: Line = ""
    address: Line = ""


class Reply(BaseModel):
    title: Annotated[str, Field(min_length=1, max_length=60), AfterValidator(_printable)]
    text: Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_printable_text)]


class SettingsOut(BaseModel):
    opening_hours: OpeningHours
    wijkteam: Wijkteam
    canned_replies: list[Reply]


def replace_in_block(text: str, block: str, values: dict[str, str]) -> str:
    """Rewrite `  key: "value"` lines inside the top-level `block:`; other lines stay."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.rstrip() == f"{block}:"), None)
    if start is None:
        raise ValueError(f"{block} not found")
    end = start + 1
    while end < len(lines) and (lines[end].startswith(" ") or not lines[end].strip()):
        end += 1
    for key, value in values.items():
        pattern = re.compile(rf"^(\s+){re.escape(key)}:\s*(\"[^\"]*\"|[^#]*?)(\s*#.*)?$")
        for i in range(start + 1, end):
            match = pattern.match(lines[i])
            if match:
                lines[i] = f'{match.group(1)}{key}: "{value}"{match.group(3) or ""}'
                break
        else:
            lines.insert(end, f'  {key}: "{value}"')
            end += 1
    return "\n".join(lines) + "\n"


def write_checked(path: Path, text: str) -> None:
    """Write a YAML data file only if it still loads, and atomically: a reader never sees half a
    file, and a bad value can never leave the desk unable to start."""
    try:
        yaml.safe_load(text)
    except yaml.YAMLError:
        raise HTTPException(422, "Deze waarden kunnen niet worden opgeslagen. Gebruik gewone tekst.") from None
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


@router.get("", response_model=SettingsOut, summary="Office hours, wijkteam contact, standard replies")
async def read_settings(admin: CurrentAdmin) -> Any:
    raw = gemeente()
    hours = raw.get("opening_hours") or {}
    team = raw.get("wijkteam") or {}
    return SettingsOut(
        opening_hours=OpeningHours(**{k: str(hours.get(k) or "") for k in OpeningHours.model_fields}),
        wijkteam=Wijkteam(**{k: str(team.get(k) or "") for k in Wijkteam.model_fields}),
        canned_replies=[Reply(**r) for r in load_canned_replies()[1:]],  # the first is the crisis text
    )


@router.put("/opening-hours", response_model=OpeningHours, summary="Change the office hours")
async def put_hours(body: OpeningHours, admin: CurrentAdmin, desk: Desk) -> Any:
    values = body.model_dump()
    try:
        hours = OfficeHours.from_settings({**(gemeente().get("opening_hours") or {}), **values})
    except HoursError as exc:
        day = str(exc).split(":")[0].removeprefix("opening_hours.")
        if day == "closed_days":
            raise HTTPException(
                422, "Een sluitingsdag klopt niet. Schrijf de dagen zo: 2026-12-24, 2026-12-31"
            ) from None
        dutch = DUTCH_DAYS[DAYS.index(day)] if day in DAYS else day
        raise HTTPException(
            422, f"De tijden voor {dutch} kloppen niet. Schrijf ze zo: 09:00-12:30, 13:30-17:00"
        ) from None
    path = gemeente_path()
    write_checked(path, replace_in_block(path.read_text(encoding="utf-8"), "opening_hours", values))
    desk.hours.replace(hours)  # the next message already uses them
    with desk.sessions.begin() as session:
        convs.audit(session, "change_settings", worker=admin, detail={"opening_hours": values})
    return body


@router.put("/wijkteam", response_model=Wijkteam, summary="Change the wijkteam's contact details")
async def put_wijkteam(body: Wijkteam, admin: CurrentAdmin, desk: Desk) -> Any:
    path = gemeente_path()
    write_checked(path, replace_in_block(path.read_text(encoding="utf-8"), "wijkteam", body.model_dump()))
    with desk.sessions.begin() as session:
        convs.audit(session, "change_settings", worker=admin, detail={"wijkteam": body.model_dump()})
    return body


@router.put("/canned-replies", response_model=list[Reply], summary="Replace the standard replies")
async def put_canned(body: Annotated[list[Reply], Field(max_length=50)], admin: CurrentAdmin, desk: Desk) -> Any:
    dumped = yaml.safe_dump({"replies": [r.model_dump() for r in body]}, allow_unicode=True, sort_keys=False, width=100)
    write_checked(data_dir() / "canned_replies.yml", CANNED_HEADER + dumped)
    with desk.sessions.begin() as session:
        convs.audit(session, "change_settings", worker=admin, detail={"canned_replies": len(body)})
    return body
