//! External resources as Zendesk's `external_resource.json` schema defines them.

use serde::Serialize;

/// One message Zendesk turns into a ticket or a comment.
#[derive(Debug, Clone, Serialize)]
pub struct ExternalResource {
    pub external_id: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html_message: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub internal_note: bool,
    /// Set on every resource of a thread, the first one included.
    pub thread_id: String,
    /// ISO-8601 with zone.
    pub created_at: String,
    pub author: Author,
    pub allow_channelback: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldValue>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub file_urls: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Author {
    pub external_id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
}

/// A ticket field applied when the ticket is created (`subject`, `tags`, field ids).
#[derive(Debug, Clone, Serialize)]
pub struct FieldValue {
    pub id: String,
    pub value: serde_json::Value,
}
