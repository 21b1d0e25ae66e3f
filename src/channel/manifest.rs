//! `GET /manifest.json`: the channel manifest with every URL made absolute.

use actix_web::{HttpResponse, ResponseError, web};
use serde_json::{Value, json};

use crate::state::AppState;

/// The manifest file shipped with the binary; URLs in it are paths.
const MANIFEST_TEMPLATE: &str = include_str!("../../manifest.json");

pub async fn manifest(state: web::Data<AppState>) -> HttpResponse {
    match render(&state) {
        Ok(manifest) => HttpResponse::Ok()
            .insert_header(("Cache-Control", "public, max-age=300"))
            .json(manifest),
        Err(error) => crate::web::ApiError::internal(error).error_response(),
    }
}

pub(crate) fn render(state: &AppState) -> Result<Value, serde_json::Error> {
    let mut manifest: Value = serde_json::from_str(MANIFEST_TEMPLATE)?;
    if let Some(urls) = manifest.get_mut("urls").and_then(Value::as_object_mut) {
        for url in urls.values_mut() {
            if let Some(path) = url.as_str() {
                *url = Value::String(state.settings.public_url_for(path));
            }
        }
    }
    manifest["id"] = json!(state.settings.public_url_for("/manifest.json"));
    manifest["version"] = json!(env!("CARGO_PKG_VERSION"));
    if let Some(client_id) = state.settings.push_client_id() {
        manifest["push_client_id"] = json!(client_id);
    }
    Ok(manifest)
}
