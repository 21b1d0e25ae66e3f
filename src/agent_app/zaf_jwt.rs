//! The ZAF JWT: with `"signedUrls": true` in the manifest, Zendesk POSTs a JSON Web
//! Token (form field `token`) to a server-side location URL, signed RS256 with the app's
//! private key. Its claims say which account (`iss`, `{subdomain}.zendesk.com`), which app
//! installation (`aud`, `https://{subdomain}.zendesk.com/api/v2/apps/installations/{id}.json`)
//! and which signed-in user (`sub`) opened the app.
//!
//! `jsonwebtoken` (RustCrypto backend) reads the app's public key (a PEM `PUBLIC KEY` from
//! Zendesk) and checks the algorithm (`RS256` only) and the signature. Nothing in the
//! token is trusted before the signature is: [`peek`] only names which key to check it
//! with. Kept by hand, in one line each:
//! - the unverified decoding, so `peek` reads any token's claims and a refusal keeps its
//!   code (`malformed` before `algorithm` before `signature`);
//! - `exp`, `iat` and `nbf`, because jsonwebtoken reads the system clock and slackdesk's
//!   clock is injected (tests move it);
//! - `iss`, `aud` and `sub`, because they are Zendesk URLs parsed into typed ids, not
//!   strings to compare.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::domain::{Subdomain, ZendeskUserId};

/// Clock skew tolerated on `exp`, `iat` and `nbf`, in seconds.
const LEEWAY_SECS: i64 = 60;
/// The longest token accepted (Zendesk's are about 1 kB).
const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// RSA modulus sizes accepted, in bits.
const RSA_BITS: std::ops::RangeInclusive<usize> = 2048..=8192;

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

/// An app's RSA public key, read by [`rsa_public_key_from_pem`].
#[derive(Clone)]
pub struct ZafKey {
    key: DecodingKey,
    modulus_bits: usize,
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

/// The header's algorithm and the claims, decoded but not verified.
fn unverified(token: &str) -> Result<(String, Claims), JwtError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(JwtError::Malformed);
    }
    let mut pieces = token.split('.');
    let (Some(header), Some(_), Some(signature), None) =
        (pieces.next(), pieces.next(), pieces.next(), pieces.next())
    else {
        return Err(JwtError::Malformed);
    };
    let header = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| JwtError::Malformed)?;
    let header: Header = serde_json::from_slice(&header).map_err(|_| JwtError::Malformed)?;
    let claims: Claims =
        jsonwebtoken::dangerous::insecure_decode_claims(token).map_err(|_| JwtError::Malformed)?;
    URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| JwtError::Malformed)?;
    Ok((header.alg, claims))
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
    let (_, claims) = unverified(token)?;
    let subdomain = issuer_subdomain(claims.iss.as_deref())?;
    let installation = audience_installation(claims.aud.as_ref(), &subdomain)?;
    Ok((subdomain, installation))
}

/// Checks the algorithm and the signature with `jsonwebtoken`: RS256 only, and none of
/// its claim checks (they are made below, on the injected clock).
fn check_signature(token: &str, key: &ZafKey) -> Result<Claims, JwtError> {
    if !RSA_BITS.contains(&key.modulus_bits) {
        return Err(JwtError::Signature);
    }
    let mut validation = Validation::new(Algorithm::RS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
        .map(|data| data.claims)
        .map_err(|error| match error.kind() {
            ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => JwtError::Algorithm,
            ErrorKind::InvalidSignature
            | ErrorKind::InvalidRsaKey(_)
            | ErrorKind::InvalidKeyFormat
            | ErrorKind::Provider(_) => JwtError::Signature,
            _ => JwtError::Malformed,
        })
}

/// Verifies `token` with the app's public key at `now_secs`, for the account and
/// installation whose key it is.
pub fn verify(
    token: &str,
    key: &ZafKey,
    now_secs: i64,
    subdomain: &Subdomain,
    installation_id: i64,
) -> Result<ZafIdentity, JwtError> {
    let (alg, _) = unverified(token)?;
    if alg != "RS256" {
        return Err(JwtError::Algorithm);
    }
    let claims = check_signature(token, key)?;
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

/// The RSA public key in a PEM `PUBLIC KEY` (SubjectPublicKeyInfo, what Zendesk's
/// `public_key.pem` holds) or `RSA PUBLIC KEY`; `None` if it is neither.
pub fn rsa_public_key_from_pem(pem: &str) -> Option<ZafKey> {
    let label = pem.split("-----BEGIN ").nth(1)?;
    if !(label.starts_with("PUBLIC KEY-----") || label.starts_with("RSA PUBLIC KEY-----")) {
        return None;
    }
    let key = DecodingKey::from_rsa_pem(pem.as_bytes()).ok()?;
    // Reading the modulus back also proves the DER is an RSA public key.
    let jwk = Jwk::from_decoding_key(&key, Some(Algorithm::RS256)).ok()?;
    let AlgorithmParameters::RSA(rsa) = &jwk.algorithm else {
        return None;
    };
    let modulus = URL_SAFE_NO_PAD.decode(&rsa.n).ok()?;
    let start = modulus.iter().position(|byte| *byte != 0)?;
    let (first, rest) = modulus[start..].split_first()?;
    let modulus_bits = rest.len() * 8 + (8 - first.leading_zeros() as usize);
    Some(ZafKey { key, modulus_bits })
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
