"""hello-python: `hello from tarn (python)` on any path, the Python row of the functions
benchmark; and `GET [/PREFIX]/forbidden[?table=T]`, which reads a table its manifest does not grant
(default `not-granted`) and answers 200 with the error it got: `{"kind", "message"}`."""

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


@app.any("/*")
def hello(req: tarn.Request) -> tarn.Response:
    return tarn.Response.text("hello from tarn (python)")


tarn.http_handler(app)
