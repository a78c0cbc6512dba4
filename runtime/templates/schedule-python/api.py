"""{{name}}-api: `GET /ticks`, what the schedule recorded."""

import tarn

app = tarn.Router()


@app.get("/ticks")
def get_ticks(req: tarn.Request) -> dict:
    return tarn.Table("ticks").get({"id": "ticks"}) or {"id": "ticks", "count": 0}


tarn.http_handler(app)
