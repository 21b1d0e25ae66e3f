//! The ZAF JWT: with `"signedUrls": true` in the manifest, Zendesk POSTs a JSON Web
//! Token (form field `token`) to a server-side location URL, signed RS256 with the app's
//! private key. Its claims say which account (`iss`, `{subdomain}.zendesk.com`), which app
//! installation (`aud`, `https://{subdomain}.zendesk.com/api/v2/apps/installations/{id}.json`)
//! and which signed-in user (`sub`) opened the app.
//!
//! Verification is done here with `ring` (already in the tree through rustls): only
//! `RS256` is accepted, the signature is checked against the app's public key (a PEM
//! `PUBLIC KEY` from Zendesk), then expiry, issuer and audience. Nothing in the token is
//! trusted before the signature is: [`peek`] only names which key to check it with.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;

use crate::domain::{Subdomain, ZendeskUserId};

/// Clock skew tolerated on `exp`, `iat` and `nbf`, in seconds.
const LEEWAY_SECS: i64 = 60;
/// The longest token accepted (Zendesk's are about 1 kB).
const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// DER of the rsaEncryption OID (1.2.840.113549.1.1.1).
const RSA_ENCRYPTION_OID: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
];

/// Why a token was refused: a short code for logs (never the token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("malformed")]
    Malformed,
    #[error("algorithm")]
    Algorithm,
    #[error("signature")]
    Signature,
    #[error("expired")]
    Expired,
    #[error("not_yet_valid")]
    NotYetValid,
    #[error("issuer")]
    Issuer,
    #[error("audience")]
    Audience,
    #[error("subject")]
    Subject,
}

/// What a verified token vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZafIdentity {
    pub subdomain: Subdomain,
    pub installation_id: i64,
    pub user_id: ZendeskUserId,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

#[derive(Deserialize)]
struct Claims {
    iss: Option<String>,
    aud: Option<serde_json::Value>,
    sub: Option<serde_json::Value>,
    exp: Option<i64>,
    iat: Option<i64>,
    nbf: Option<i64>,
}

struct Parts<'a> {
    signing_input: &'a str,
    signature: Vec<u8>,
    header: Header,
    claims: Claims,
}

fn parts(token: &str) -> Result<Parts<'_>, JwtError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(JwtError::Malformed);
    }
    let mut pieces = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (pieces.next(), pieces.next(), pieces.next(), pieces.next())
    else {
        return Err(JwtError::Malformed);
    };
    let decode = |piece: &str| {
        URL_SAFE_NO_PAD
            .decode(piece)
            .map_err(|_| JwtError::Malformed)
    };
    let header: Header =
        serde_json::from_slice(&decode(header)?).map_err(|_| JwtError::Malformed)?;
    let claims: Claims =
        serde_json::from_slice(&decode(payload)?).map_err(|_| JwtError::Malformed)?;
    Ok(Parts {
        signing_input: &token[..token.len() - signature.len() - 1],
        signature: decode(signature)?,
        header,
        claims,
    })
}

fn issuer_subdomain(iss: Option<&str>) -> Result<Subdomain, JwtError> {
    iss.and_then(|iss| iss.strip_suffix(".zendesk.com"))
        .and_then(|sub| Subdomain::parse(sub).ok())
        .ok_or(JwtError::Issuer)
}

fn audience_installation(
    aud: Option<&serde_json::Value>,
    subdomain: &Subdomain,
) -> Result<i64, JwtError> {
    let prefix = format!(
        "https://{}.zendesk.com/api/v2/apps/installations/",
        subdomain.as_str()
    );
    let one = |value: &serde_json::Value| {
        value
            .as_str()
            .and_then(|a| a.strip_prefix(prefix.as_str()))
            .and_then(|rest| rest.strip_suffix(".json"))
            .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|id| id.parse::<i64>().ok())
            .filter(|id| *id > 0)
    };
    match aud {
        Some(serde_json::Value::Array(list)) if list.len() == 1 => one(&list[0]),
        Some(value) => one(value),
        None => None,
    }
    .ok_or(JwtError::Audience)
}

/// The user: `sub` is the user's API URL on the account
/// (`https://{subdomain}.zendesk.com/api/v2/users/{id}.json`) or the bare id.
fn subject_user(
    sub: Option<&serde_json::Value>,
    subdomain: &Subdomain,
) -> Result<ZendeskUserId, JwtError> {
    let prefix = format!("https://{}.zendesk.com/api/v2/users/", subdomain.as_str());
    let id = match sub {
        Some(serde_json::Value::Number(n)) => n.as_i64(),
        Some(serde_json::Value::String(s)) => {
            let digits = s
                .strip_prefix(prefix.as_str())
                .and_then(|rest| rest.strip_suffix(".json"))
                .unwrap_or(s);
            (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
                .then(|| digits.parse::<i64>().ok())
                .flatten()
        }
        _ => None,
    };
    id.and_then(|id| ZendeskUserId::new(id).ok())
        .ok_or(JwtError::Subject)
}

/// The account and installation a token claims, unverified: only to choose the key to
/// verify it with.
pub fn peek(token: &str) -> Result<(Subdomain, i64), JwtError> {
    let parts = parts(token)?;
    let subdomain = issuer_subdomain(parts.claims.iss.as_deref())?;
    let installation = audience_installation(parts.claims.aud.as_ref(), &subdomain)?;
    Ok((subdomain, installation))
}

/// Verifies `token` with the app's public key (`rsa_der`: a PKCS#1 `RSAPublicKey`, see
/// [`rsa_public_key_from_pem`]) at `now_secs`, for the account and installation whose key
/// it is.
pub fn verify(
    token: &str,
    rsa_der: &[u8],
    now_secs: i64,
    subdomain: &Subdomain,
    installation_id: i64,
) -> Result<ZafIdentity, JwtError> {
    let parts = parts(token)?;
    if parts.header.alg != "RS256" {
        return Err(JwtError::Algorithm);
    }
    ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, rsa_der)
        .verify(parts.signing_input.as_bytes(), &parts.signature)
        .map_err(|_| JwtError::Signature)?;
    let claims = parts.claims;
    match claims.exp {
        Some(exp) if exp + LEEWAY_SECS > now_secs => {}
        _ => return Err(JwtError::Expired),
    }
    if [claims.iat, claims.nbf]
        .into_iter()
        .flatten()
        .any(|t| t > now_secs + LEEWAY_SECS)
    {
        return Err(JwtError::NotYetValid);
    }
    if issuer_subdomain(claims.iss.as_deref())? != *subdomain {
        return Err(JwtError::Issuer);
    }
    if audience_installation(claims.aud.as_ref(), subdomain)? != installation_id {
        return Err(JwtError::Audience);
    }
    let user_id = subject_user(claims.sub.as_ref(), subdomain)?;
    Ok(ZafIdentity {
        subdomain: subdomain.clone(),
        installation_id,
        user_id,
    })
}

/// Reads one DER element at the start of `input`: `(tag, contents, rest)`.
fn der_element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let len = rest[..count]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[count..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The PKCS#1 `RSAPublicKey` inside a PEM `PUBLIC KEY` (SubjectPublicKeyInfo, what
/// Zendesk's `public_key.pem` holds) or `RSA PUBLIC KEY`; `None` if it is neither.
pub fn rsa_public_key_from_pem(pem: &str) -> Option<Vec<u8>> {
    let kind = if pem.contains("-----BEGIN PUBLIC KEY-----") {
        "PUBLIC KEY"
    } else if pem.contains("-----BEGIN RSA PUBLIC KEY-----") {
        "RSA PUBLIC KEY"
    } else {
        return None;
    };
    let body = pem
        .split(&format!("-----BEGIN {kind}-----"))
        .nth(1)?
        .split(&format!("-----END {kind}-----"))
        .next()?;
    let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let der = STANDARD.decode(compact).ok()?;
    if kind == "RSA PUBLIC KEY" {
        let (tag, _, rest) = der_element(&der)?;
        return (tag == 0x30 && rest.is_empty()).then_some(der);
    }
    let (tag, spki, rest) = der_element(&der)?;
    if tag != 0x30 || !rest.is_empty() {
        return None;
    }
    let (tag, algorithm, after) = der_element(spki)?;
    if tag != 0x30 || !algorithm.starts_with(RSA_ENCRYPTION_OID) {
        return None;
    }
    let (tag, bits, rest) = der_element(after)?;
    if tag != 0x03 || !rest.is_empty() {
        return None;
    }
    let (&unused, key) = bits.split_first()?;
    (unused == 0 && der_element(key).is_some_and(|(t, _, r)| t == 0x30 && r.is_empty()))
        .then(|| key.to_vec())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn acme() -> Subdomain {
        Subdomain::parse("acme").unwrap()
    }

    fn unsigned(claims: &serde_json::Value) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        format!("{header}.{payload}.c2ln")
    }

    #[test]
    fn peek_reads_account_and_installation_only_from_zendesk_shaped_claims() {
        let good = serde_json::json!({
            "iss": "acme.zendesk.com",
            "aud": "https://acme.zendesk.com/api/v2/apps/installations/42.json",
        });
        assert_eq!(peek(&unsigned(&good)).unwrap(), (acme(), 42));
        let foreign_aud = serde_json::json!({
            "iss": "acme.zendesk.com",
            "aud": "https://evil.zendesk.com/api/v2/apps/installations/42.json",
        });
        assert_eq!(peek(&unsigned(&foreign_aud)), Err(JwtError::Audience));
        let bad_iss = serde_json::json!({"iss": "acme.example.com", "aud": "x"});
        assert_eq!(peek(&unsigned(&bad_iss)), Err(JwtError::Issuer));
        assert_eq!(peek("a.b"), Err(JwtError::Malformed));
        assert_eq!(peek("a.b.c.d"), Err(JwtError::Malformed));
    }

    #[test]
    fn subjects_are_user_urls_of_the_account_or_bare_ids() {
        let url = serde_json::json!("https://acme.zendesk.com/api/v2/users/7.json");
        assert_eq!(subject_user(Some(&url), &acme()).unwrap().get(), 7);
        assert_eq!(
            subject_user(Some(&serde_json::json!("8")), &acme())
                .unwrap()
                .get(),
            8
        );
        let foreign = serde_json::json!("https://evil.zendesk.com/api/v2/users/7.json");
        assert_eq!(
            subject_user(Some(&foreign), &acme()),
            Err(JwtError::Subject)
        );
        assert_eq!(subject_user(None, &acme()), Err(JwtError::Subject));
    }

    #[test]
    fn only_rsa_public_keys_are_read() {
        assert!(rsa_public_key_from_pem("nonsense").is_none());
        assert!(
            rsa_public_key_from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")
                .is_none()
        );
    }
}
