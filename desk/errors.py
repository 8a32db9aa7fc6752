"""The desk's 422: one Dutch sentence for people and, when fields are malformed, which."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel


class Problem(BaseModel):
    where: str
    problem: str


class InvalidRequest(BaseModel):
    """The body of every 422: one sentence for people and, when fields are malformed, which.
    (A handler that refuses a well-formed value itself sends the sentence only.)"""

    detail: str
    problems: list[Problem] = []


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            Problem(where=".".join(str(p) for p in error.get("loc", ())), problem=str(error.get("msg", "")))
            for error in exc.errors()
        ]
        body = InvalidRequest(detail="Het verzoek klopt niet. Controleer de velden.", problems=problems)
        return JSONResponse(status_code=422, content=body.model_dump())

    _document_invalid_request(app)


def _document_invalid_request(app: FastAPI) -> None:
    """FastAPI documents its own 422 body (`detail` as a list of errors); the desk sends
    `InvalidRequest`. Put that in /openapi.json, so clients and the schema fuzzer see the truth."""
    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        patched = app.openapi_schema is not None
        schema = default_openapi()
        schemas = schema.get("components", {}).get("schemas", {})
        if not patched and "HTTPValidationError" in schemas:
            definition = InvalidRequest.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(definition.pop("$defs", {}))
            schemas["HTTPValidationError"] = definition
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
