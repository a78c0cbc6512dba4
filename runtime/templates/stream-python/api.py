"""{{name}}-api: writes and deletes `items`, reads the counts the stream handler keeps."""

import tarn

app = tarn.Router()
items = tarn.Table("items")


@app.put("/items/:id")
def put_item(req: tarn.Request) -> dict:
    body = req.json()
    if not isinstance(body, dict):
        raise tarn.HttpError(400, "send a JSON object")
    item = {**body, "id": req.params["id"]}
    items.put(item)
    return item


@app.delete("/items/:id")
def delete_item(req: tarn.Request) -> None:
    if items.delete({"id": req.params["id"]}) is None:
        raise tarn.HttpError(404, f"no item {req.params['id']}")


@app.get("/counts")
def get_counts(req: tarn.Request) -> dict:
    return tarn.Table("counts").get({"id": "totals"}) or {"id": "totals"}


tarn.http_handler(app)
