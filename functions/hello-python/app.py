"""hello-python: `hello from tarn (python)` on any path, the Python row of the functions
benchmark; and `GET [/PREFIX]/forbidden[?table=T]`, which reads a table its manifest does not grant
(default `not-granted`) and answers 200 with the error it got: `{"kind", "message"}`.

For the instance-reuse tests: `/count` adds one to a global and answers it (1 on a fresh instance,
more on a reused one), `/boom` raises (the SDK answers 500; the instance lives on), and `/loop`
never returns (the host stops it at its timeout and drops the instance)."""

import tarn

app = tarn.Router()


@app.get("/forbidden")
@app.get("/:prefix/forbidden")
def forbidden(req: tarn.Request) -> dict:
    try:
        item = tarn.Table(req.query.get("table", "not-granted")).get({"id": "x"})
    except tarn.TableError as e:
        return {"kind": e.code, "message": e.message}
    return {"item": item}


count = 0


@app.get("/count")
def counter(req: tarn.Request) -> str:
    global count
    count += 1
    return str(count)


@app.get("/boom")
def boom(req: tarn.Request) -> None:
    raise RuntimeError("boom")


@app.get("/loop")
def loop(req: tarn.Request) -> None:
    while True:
        pass


@app.any("/*")
def hello(req: tarn.Request) -> tarn.Response:
    return tarn.Response.text("hello from tarn (python)")


tarn.http_handler(app)
