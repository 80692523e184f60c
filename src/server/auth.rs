//! Access tokens (HS256 JWTs) and the admin API key.

use chrono::{DateTime, TimeZone, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::proto::{ApiError, ErrorCode, User};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    /// The user's creation time in milliseconds: a token stays bound to the account it was
    /// issued for, so deleting a user and creating one with the same id voids old tokens.
    pub gen: i64,
    /// Token id, so two tokens minted in the same second differ.
    #[serde(default)]
    pub jti: String,
    /// A session connected by access link: the link, its call, and a guest's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<LinkClaim>,
}

/// What a link session's token is restricted to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkClaim {
    pub link_id: String,
    pub room_id: String,
    /// The chat channel of the call.
    pub channel_id: String,
    /// A guest's name (absent for the user a link was made for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest_name: Option<String>,
}

impl Claims {
    pub fn expires_at(&self) -> DateTime<Utc> {
        Utc.timestamp_opt(self.exp, 0).single().unwrap_or_default()
    }
}

/// Mints and checks access tokens with one server secret.
#[derive(Clone)]
pub struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl TokenIssuer {
    pub fn new(secret: &[u8]) -> Self {
        // Only HS256 is accepted: a token claiming any other algorithm (`none` included) is
        // refused before its signature is looked at.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.leeway = 0;
        // Expiry is checked against the server's clock, below.
        validation.validate_exp = false;
        TokenIssuer {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// A token for `user` valid from `now` for `lifetime_s` seconds.
    pub fn issue(
        &self,
        user: &User,
        now: DateTime<Utc>,
        lifetime_s: i64,
    ) -> Result<(String, DateTime<Utc>), ApiError> {
        let claims = Claims {
            sub: user.user_id.clone(),
            iat: now.timestamp(),
            exp: now.timestamp() + lifetime_s,
            gen: user.created_at.timestamp_millis(),
            jti: uuid::Uuid::new_v4().simple().to_string(),
            link: None,
        };
        self.sign(&claims)
    }

    /// A link session's token for `user_id` (a guest's, with `gen` 0, or the user the link
    /// was made for, with their account's `gen`), restricted to the call of `link`.
    pub fn issue_link(
        &self,
        user_id: &str,
        gen: i64,
        link: LinkClaim,
        now: DateTime<Utc>,
        lifetime_s: i64,
    ) -> Result<(String, DateTime<Utc>), ApiError> {
        let claims = Claims {
            sub: user_id.to_owned(),
            iat: now.timestamp(),
            exp: now.timestamp() + lifetime_s,
            gen,
            jti: uuid::Uuid::new_v4().simple().to_string(),
            link: Some(link),
        };
        self.sign(&claims)
    }

    fn sign(&self, claims: &Claims) -> Result<(String, DateTime<Utc>), ApiError> {
        let token = encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| ApiError::new(ErrorCode::InternalServerError, e.to_string()))?;
        Ok((token, claims.expires_at()))
    }

    /// Checks signature, algorithm and expiry (at `now`); maps each failure to its error
    /// code.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, ApiError> {
        let claims = decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => ApiError::new(
                    ErrorCode::AccessTokenExpired,
                    "the access token has expired",
                ),
                ErrorKind::InvalidSignature => ApiError::new(
                    ErrorCode::AccessTokenInvalidSignature,
                    "the access token's signature does not verify",
                ),
                other => ApiError::new(
                    ErrorCode::AccessTokenInvalid,
                    format!("the access token is not valid: {other:?}"),
                ),
            })?;
        // On or after `exp` the token is no longer accepted (RFC 7519, 4.1.4).
        if now.timestamp() >= claims.exp {
            return Err(ApiError::new(
                ErrorCode::AccessTokenExpired,
                "the access token has expired",
            ));
        }
        Ok(claims)
    }
}

/// Compares two secrets in time that depends only on their lengths.
pub fn secrets_equal(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A random secret of `bytes` bytes, URL-safe base64 encoded.
pub fn random_secret(bytes: usize) -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn alice() -> User {
        User {
            user_id: "alice".into(),
            display_name: "Alice".into(),
            created_at: Utc::now(),
            profile: crate::proto::Profile::default(),
        }
    }

    #[test]
    fn issued_tokens_verify_and_forgeries_do_not() {
        let issuer = TokenIssuer::new(b"secret-one");
        let (token, exp) = issuer.issue(&alice(), Utc::now(), 600).unwrap();
        let claims = issuer.verify(&token, Utc::now()).unwrap();
        assert_eq!(claims.sub, "alice");
        assert_eq!(claims.expires_at(), exp);

        let other = TokenIssuer::new(b"secret-two");
        assert_eq!(
            other.verify(&token, Utc::now()).unwrap_err().code,
            ErrorCode::AccessTokenInvalidSignature
        );
        let (old, _) = issuer
            .issue(&alice(), Utc::now() - chrono::Duration::hours(2), 600)
            .unwrap();
        assert_eq!(
            issuer.verify(&old, Utc::now()).unwrap_err().code,
            ErrorCode::AccessTokenExpired
        );
        assert_eq!(
            issuer.verify("not.a.jwt", Utc::now()).unwrap_err().code,
            ErrorCode::AccessTokenInvalid
        );
    }

    #[test]
    fn alg_none_and_missing_claims_are_refused() {
        let issuer = TokenIssuer::new(b"k");
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let exp = Utc::now().timestamp() + 600;
        // Every claim right, the `gen` of the account included: only the algorithm is wrong.
        let none = format!(
            "{}.{}.",
            b64(r#"{"alg":"none","typ":"JWT"}"#),
            b64(&format!(
                r#"{{"sub":"alice","iat":1,"exp":{exp},"gen":1,"jti":"j"}}"#
            ))
        );
        // The same claims signed with HS256 are accepted: the refusal above is the `none`.
        let key = EncodingKey::from_secret(b"k");
        let signed = encode(
            &Header::new(Algorithm::HS256),
            &serde_json::json!({"sub":"alice","iat":1,"exp":exp,"gen":1,"jti":"j"}),
            &key,
        )
        .unwrap();
        assert_eq!(issuer.verify(&signed, Utc::now()).unwrap().sub, "alice");
        assert_eq!(
            issuer.verify(&none, Utc::now()).unwrap_err().code,
            ErrorCode::AccessTokenInvalid
        );
        // Correctly signed but without `iat`.
        let no_iat = encode(
            &Header::new(Algorithm::HS256),
            &serde_json::json!({"sub":"alice","exp":exp,"gen":1}),
            &key,
        )
        .unwrap();
        assert_eq!(
            issuer.verify(&no_iat, Utc::now()).unwrap_err().code,
            ErrorCode::AccessTokenInvalid
        );
    }

    #[test]
    fn secret_comparison() {
        assert!(secrets_equal("abc", "abc"));
        assert!(!secrets_equal("abc", "abd"));
        assert!(!secrets_equal("abc", "abcd"));
        assert_eq!(random_secret(32).len(), 43);
    }
}
