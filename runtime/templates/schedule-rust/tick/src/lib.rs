//! {{name}}: runs on each tick of its cron schedule and records it in `ticks`.

use tarn_sdk::Table;

fn tick(scheduled_time: &str) -> Result<(), tarn_sdk::Error> {
    Table::open("ticks")
        .update(&serde_json::json!({ "id": "ticks" }))
        .set("last", scheduled_time)
        .add("count", &1)
        .send()?;
    tarn_sdk::log::info!("tick at {scheduled_time}");
    Ok(())
}

tarn_sdk::schedule_handler!(tick);
