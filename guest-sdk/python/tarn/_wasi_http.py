"""The glue between `wasi:http/incoming-handler` and `tarn.http`: reads the incoming request in
full into a `Request`, and writes a `Response` back. Imported only inside a component (the
`wit_world` bindings exist only there)."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from componentize_py_types import Err, Ok  # type: ignore[import-not-found]
from wit_world.imports import streams  # type: ignore[import-not-found]
from wit_world.imports import wasi_http_types as t  # type: ignore[import-not-found]

from .host import write_log
from .http import HttpError, Request, Response

_READ = 64 * 1024
_WRITE = 4096

_METHODS = {
    t.Method_Get: "GET",
    t.Method_Head: "HEAD",
    t.Method_Post: "POST",
    t.Method_Put: "PUT",
    t.Method_Delete: "DELETE",
    t.Method_Patch: "PATCH",
    t.Method_Options: "OPTIONS",
    t.Method_Connect: "CONNECT",
    t.Method_Trace: "TRACE",
}


def _method(m: Any) -> str:
    if isinstance(m, t.Method_Other):
        return m.value
    return _METHODS.get(type(m), "GET")


def _read_body(request: Any) -> bytes:
    chunks: list[bytes] = []
    body = request.consume()
    stream = body.stream()
    try:
        while True:
            try:
                chunks.append(stream.blocking_read(_READ))
            except Err as e:
                if isinstance(e.value, streams.StreamError_Closed):
                    break
                raise HttpError(400, "cannot read the request body") from None
    finally:
        stream.__exit__(None, None, None)
    t.IncomingBody.finish(body)
    return b"".join(chunks)


def _send(out: Any, resp: Response) -> None:
    headers = [(k.lower(), v.encode()) for k, v in resp.headers.items()]
    if resp.body and "content-length" not in resp.headers:
        headers.append(("content-length", str(len(resp.body)).encode()))
    try:
        fields = t.Fields.from_list(headers)
    except Err:
        fields = t.Fields()
    outgoing = t.OutgoingResponse(fields)
    outgoing.set_status_code(resp.status)
    body = outgoing.body()
    t.ResponseOutparam.set(out, Ok(outgoing))
    stream = body.write()
    try:
        for i in range(0, len(resp.body), _WRITE):
            stream.blocking_write_and_flush(resp.body[i : i + _WRITE])
    except Err:
        pass  # the client went away
    finally:
        stream.__exit__(None, None, None)
    t.OutgoingBody.finish(body, None)


def serve(request: Any, out: Any, handler: Callable[[Request], Response]) -> None:
    """Runs `handler` for one `wasi:http` request and sends its response. Nothing escapes: an
    exception escaping an export would trap the instance."""
    try:
        uri = request.path_with_query() or "/"
        headers = [(k, v.decode("utf-8", "replace")) for k, v in request.headers().entries()]
        method = _method(request.method())
        body = _read_body(request)
        response = handler(Request(method, uri, headers, body))
    except HttpError as e:
        response = e.to_response()
    except Exception:
        write_log("error", f"request failed:\n{traceback.format_exc()}")
        response = HttpError(500, "internal error").to_response()
    _send(out, response)
