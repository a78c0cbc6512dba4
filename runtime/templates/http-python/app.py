"""{{name}}: an HTTP function in Python (the `tarn` package: guest-sdk/python)."""

import tarn

app = tarn.Router()
items = tarn.Table("items")


@app.get("/hello/:who")
def hello(req: tarn.Request) -> str:
    tarn.log.info("saying hello to %s", req.params["who"])
    return f"hello, {req.params['who']}, from Python\n"


@app.put("/items/:id")
def put_item(req: tarn.Request) -> dict:
    body = req.json()
    if not isinstance(body, dict):
        raise tarn.HttpError(400, "send a JSON object")
    item = {**body, "id": req.params["id"]}
    items.put(item)
    return item


@app.get("/items/:id")
def get_item(req: tarn.Request) -> dict:
    item = items.get({"id": req.params["id"]})
    if item is None:
        raise tarn.HttpError(404, f"no item {req.params['id']}")
    return item


tarn.http_handler(app)
