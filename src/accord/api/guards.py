"""Size limits checked before the app sees a request: headers (431) and the body (413, while it is read).

A body is counted as it arrives, so a 10 MB upload is refused after the first megabyte, not
after it has been buffered; a declared ``Content-Length`` over the limit is refused before a byte
is read. Headers over the limit (the HTTP server's own cap is set higher, so the app can say
which header it was) get a 431 problem naming the largest one.
"""

from __future__ import annotations

from typing import Any

from .problems import FieldProblem, problem_response


class SizeLimits:
    def __init__(self, app: Any, *, body_limit: int, header_limit: int) -> None:
        self.app, self.body_limit, self.header_limit = app, body_limit, header_limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope["headers"]
        if sum(len(k) + len(v) + 4 for k, v in headers) > self.header_limit:
            name = max(headers, key=lambda kv: len(kv[1]))[0].decode("latin-1")
            await problem_response(431, f"the request's headers exceed {self.header_limit} bytes", kind="headers-too-large",
                                   errors=[FieldProblem(field=name, location="header",
                                                        problem="too large")])(scope, receive, send)
            return
        declared = next((v for k, v in headers if k == b"content-length"), None)
        if declared is not None:
            if not declared.isdigit():
                await problem_response(400, "Content-Length is not a number", kind="bad-request",
                                       errors=[FieldProblem(field="Content-Length", location="header",
                                                            problem="not a number")])(scope, receive, send)
                return
            if int(declared) > self.body_limit:
                await self._too_large(scope, receive, send)
                return
        seen = 0
        refused = False

        async def counted() -> dict:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.body_limit:
                    refused = True
                    await self._too_large(scope, receive, send)
                    return {"type": "http.disconnect"}  # the app stops reading; what it answers is dropped
            return message

        async def unless_refused(message: dict) -> None:
            if not refused:
                await send(message)

        await self.app(scope, counted, unless_refused)

    async def _too_large(self, scope: dict, receive: Any, send: Any) -> None:
        await problem_response(413, f"the body exceeds {self.body_limit} bytes", kind="body-too-large",
                               errors=[FieldProblem(field="body", location="body", problem="too large")])(
            scope, receive, send)
