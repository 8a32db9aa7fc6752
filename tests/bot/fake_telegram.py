"""A local fake of Telegram's Bot API server: real HTTP, records what the bot sends.

Telegram's own servers cannot be reached from here; this is the edge of the world. It
implements the methods python-telegram-bot uses for polling and replying, serves updates
pushed by the test through getUpdates (long polling), and serves files a test registered
with `add_file` through getFile and `{url}/file/bot{token}/{file_path}`, the way
python-telegram-bot downloads them when `base_file_url` is `{url}/file/bot`.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

BOT_USER = {
    "id": 4242,
    "is_bot": True,
    "first_name": "Baken",
    "username": "baken_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


class FakeBotApi:
    def __init__(self, token: str, port: int) -> None:
        self.token = token
        self.port = port
        self.updates: list[dict[str, Any]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._message_id = 1000
        self.files: dict[str, tuple[str, bytes]] = {}
        """file_id -> (file_path, content)"""
        self.faults: dict[str, list[tuple[int, dict[str, Any], float] | None]] = {}
        """method -> what its next calls answer instead: (HTTP status, body, delay in seconds)."""
        self.confirmed = 0
        """As Telegram: an update is confirmed (never served again) once getUpdates is called
        with an offset above its id; a restarted bot asking from offset 0 gets the rest."""
        app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._handle, methods=["GET", "POST"]),
                Route("/file/bot{token}/{file_path:path}", self._download, methods=["GET"]),
            ]
        )
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def push(self, update: dict[str, Any]) -> None:
        with self._lock:
            self.updates.append(update)

    def unconfirm(self, update_id: int) -> None:
        """Telegram never got the call that confirmed `update_id` (the bot died first): it
        serves that update, and the ones after it, again."""
        with self._lock:
            self.confirmed = min(self.confirmed, update_id)

    def add_file(self, content: bytes, *, folder: str = "documents", suffix: str = "") -> dict[str, Any]:
        """Make `content` downloadable; returns the fields a PhotoSize or Document carries."""
        with self._lock:
            number = len(self.files) + 1
            file_id = f"file-{number}"
            self.files[file_id] = (f"{folder}/file_{number}{suffix}", content)
        return {"file_id": file_id, "file_unique_id": f"unique-{number}", "file_size": len(content)}

    def photo(self, content: bytes) -> list[dict[str, Any]]:
        """A message's `photo` field: a thumbnail and the full size, as Telegram sends them."""
        thumb = self.add_file(content[:64], folder="photos", suffix=".jpg")
        full = self.add_file(content, folder="photos", suffix=".jpg")
        return [{**thumb, "width": 90, "height": 67}, {**full, "width": 1280, "height": 960}]

    def document(
        self, content: bytes, file_name: str, mime_type: str, *, file_size: int | None = None
    ) -> dict[str, Any]:
        """A message's `document` field; `file_size` may claim more than `content` holds."""
        fields = self.add_file(content)
        if file_size is not None:
            fields["file_size"] = file_size
        return {**fields, "file_name": file_name, "mime_type": mime_type}

    def fail(self, method: str, status: int, *, times: int = 1, retry_after: int | None = None, after: int = 0) -> None:
        """The next `times` calls of `method` fail the way Telegram fails: a 5xx, a 429 with
        `parameters.retry_after`, a 403 (the citizen blocked the bot)."""
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": f"fake: {status}"}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
            body["description"] = f"Too Many Requests: retry after {retry_after}"
        if status == 403:
            body["description"] = "Forbidden: bot was blocked by the user"
        with self._lock:
            queue = self.faults.setdefault(method, [])
            queue.extend([None] * after)
            queue.extend([(status, body, 0.0)] * times)

    def stall(self, method: str, seconds: float, *, times: int = 1) -> None:
        """The next `times` calls of `method` hang for `seconds` (the client times out) and are
        then NOT carried out, as when Telegram never got the request."""
        with self._lock:
            body = {"ok": False, "error_code": 504, "description": "fake: stalled"}
            self.faults.setdefault(method, []).extend([(504, body, seconds)] * times)

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        with self._lock:
            return [params for name, params in self.calls if name == method]

    def wait_for(self, predicate: Any, timeout: float = 60.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = self.sent()
            if predicate(messages):
                return messages
            time.sleep(0.05)
        raise AssertionError(f"timed out; sent so far: {[m.get('text', '')[:60] for m in self.sent()]}")

    async def _params(self, request: Request) -> dict[str, Any]:
        if request.headers.get("content-type", "").startswith("application/json"):
            body = await request.json()
            return dict(body) if isinstance(body, dict) else {}
        form = await request.form()
        params: dict[str, Any] = {}
        for key, value in form.items():
            if isinstance(value, UploadFile):  # sendDocument: the file's name and bytes
                params[key] = {"filename": value.filename, "content": await value.read()}
                continue
            text = str(value)
            try:
                params[key] = json.loads(text) if text[:1] in "[{" else text
            except ValueError:
                params[key] = text
        return params

    async def _handle(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401)
        method = request.path_params["method"]
        params = await self._params(request)
        with self._lock:
            pending = self.faults.get(method)
            fault = pending.pop(0) if pending else None
            if fault is None:
                self.calls.append((method, params))
            else:
                self.calls.append((f"refused:{method}", params))
        if fault is not None:
            import asyncio

            status, body, delay = fault
            if delay:
                await asyncio.sleep(delay)
            return JSONResponse(body, status_code=status)
        if method == "getUpdates":
            return JSONResponse({"ok": True, "result": await self._updates(params)})
        if method == "getFile":
            return self._get_file(str(params.get("file_id", "")))
        if method == "getMe":
            return JSONResponse({"ok": True, "result": BOT_USER})
        if method in ("sendMessage", "sendDocument"):
            with self._lock:
                self._message_id += 1
                message_id = self._message_id
            chat_id = int(params["chat_id"])
            result = {
                "message_id": message_id,
                "date": int(time.time()),
                "text": params.get("text", ""),
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT_USER,
            }
            return JSONResponse({"ok": True, "result": result})
        if method in {"deleteWebhook", "setWebhook", "answerCallbackQuery", "sendChatAction", "close", "logOut"}:
            return JSONResponse({"ok": True, "result": True})
        return JSONResponse(
            {"ok": False, "error_code": 400, "description": f"fake: {method} not implemented"}, status_code=400
        )

    def _get_file(self, file_id: str) -> JSONResponse:
        with self._lock:
            found = self.files.get(file_id)
        if found is None:
            return JSONResponse(
                {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"}, status_code=400
            )
        file_path, content = found
        number = file_id.rsplit("-", 1)[-1]
        result = {
            "file_id": file_id,
            "file_unique_id": f"unique-{number}",
            "file_size": len(content),
            "file_path": file_path,
        }
        return JSONResponse({"ok": True, "result": result})

    async def _download(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return Response(status_code=401)
        file_path = request.path_params["file_path"]
        with self._lock:
            self.calls.append(("download", {"file_path": file_path}))
            content = next((data for path, data in self.files.values() if path == file_path), None)
        if content is None:
            return Response(status_code=404)
        return Response(content, media_type="application/octet-stream")

    async def _updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        import asyncio

        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 2.0)
        deadline = time.monotonic() + timeout
        with self._lock:
            self.confirmed = max(self.confirmed, offset)
        while True:
            with self._lock:
                ready = [u for u in self.updates if u["update_id"] >= self.confirmed]
            if ready or time.monotonic() >= deadline:
                return ready
            await asyncio.sleep(0.05)
