//! `application/x-www-form-urlencoded` bodies, parsed strictly.
//!
//! Zendesk repeats `file_urls[]` once per attachment, which serde's form decoding does not
//! map to a list; here any field can be read as one value or as all of its values.

use actix_web::HttpRequest;

use super::ApiError;

#[derive(Debug, Default)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// Parses a form body; 415 for another content type, 400 for invalid UTF-8.
    pub fn parse(req: &HttpRequest, body: &[u8]) -> Result<Self, ApiError> {
        let is_form = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !is_form {
            return Err(ApiError::UnsupportedMediaType {
                expected: "application/x-www-form-urlencoded",
            });
        }
        Self::from_bytes(body)
    }

    pub fn from_bytes(body: &[u8]) -> Result<Self, ApiError> {
        let mut pairs = Vec::new();
        for (key, value) in form_urlencoded::parse(body) {
            // The decoder replaces invalid UTF-8 with U+FFFD; refuse instead of guessing.
            if key.contains('\u{FFFD}') {
                return Err(ApiError::invalid("body", "a field name is not valid UTF-8"));
            }
            if value.contains('\u{FFFD}') {
                return Err(ApiError::invalid(key.into_owned(), "is not valid UTF-8"));
            }
            pairs.push((key.into_owned(), value.into_owned()));
        }
        Ok(Self { pairs })
    }

    /// The single value of a field; 400 when it appears more than once.
    pub fn optional(&self, name: &str) -> Result<Option<&str>, ApiError> {
        let mut values = self
            .pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(ApiError::invalid(name, "must appear only once"));
        }
        Ok(first)
    }

    /// The single value of a field that must be present (it may be empty).
    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.optional(name)?
            .ok_or_else(|| ApiError::invalid(name, "is required"))
    }

    /// A present, non-empty value.
    pub fn non_empty(&self, name: &str) -> Result<&str, ApiError> {
        match self.optional(name)? {
            Some(v) if !v.trim().is_empty() => Ok(v),
            _ => Err(ApiError::invalid(name, "is required")),
        }
    }

    /// Every value of a repeated field, in order (`file_urls[]`).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn repeated_file_urls_keep_their_order() {
        let form = Form::from_bytes(
            b"message=hi&file_urls%5B%5D=https%3A%2F%2Fa%2F1&file_urls[]=https://a/2&thread_id=t",
        )
        .unwrap();
        assert_eq!(form.all("file_urls[]"), vec!["https://a/1", "https://a/2"]);
        assert_eq!(form.required("thread_id").unwrap(), "t");
    }

    #[test]
    fn single_fields_may_not_repeat_and_must_be_present() {
        let form = Form::from_bytes(b"a=1&a=2&empty=").unwrap();
        assert!(form.optional("a").is_err());
        assert!(form.required("missing").is_err());
        assert_eq!(form.required("empty").unwrap(), "");
        assert!(form.non_empty("empty").is_err());
    }

    #[test]
    fn invalid_utf8_is_refused_with_the_field_named() {
        let error = Form::from_bytes(b"metadata=%FF%FE").unwrap_err();
        assert!(matches!(error, ApiError::InvalidField { field, .. } if field == "metadata"));
    }
}
