//! Webhook signatures (`X-Hub-Signature-256`), for self-hosted relays that
//! hand alembot a webhook delivery instead of an Actions event file.
//!
//! GitHub signs the raw request body with HMAC-SHA256 under the webhook's
//! secret and sends `sha256=<hex digest>` ("Validating webhook
//! deliveries" in GitHub's docs). The body must be checked byte for byte as
//! received: re-serialised JSON would not match.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// Whether `header_value` (the `X-Hub-Signature-256` header) is GitHub's
/// signature of `body` under `secret`.
///
/// The comparison is constant-time (`Mac::verify_slice`), so the time it
/// takes says nothing about how many leading bytes of a forged signature
/// were right. Anything malformed (no `sha256=` prefix, bad hex, a digest
/// of the wrong length) is simply not a valid signature.
pub fn verify(secret: &SecretString, body: &[u8], header_value: &str) -> bool {
    let Some(hex_digest) = header_value.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(digest) = hex::decode(hex_digest) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&digest).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // The test vector from GitHub's "Validating webhook deliveries".
    const SECRET: &str = "It's a Secret to Everybody";
    const PAYLOAD: &[u8] = b"Hello, World!";
    const SIGNATURE: &str =
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_string())
    }

    #[test]
    fn githubs_documented_vector_verifies() {
        assert!(verify(&secret(SECRET), PAYLOAD, SIGNATURE));
        assert!(verify(
            &secret(SECRET),
            PAYLOAD,
            &format!("  {SIGNATURE}\n")
        ));
    }

    #[test]
    fn anything_else_does_not() {
        assert!(!verify(&secret("wrong secret"), PAYLOAD, SIGNATURE));
        assert!(!verify(&secret(SECRET), b"Hello, World?", SIGNATURE));
        // The hex digest alone, or under the old SHA-1 header's prefix.
        assert!(!verify(&secret(SECRET), PAYLOAD, &SIGNATURE[7..]));
        assert!(!verify(
            &secret(SECRET),
            PAYLOAD,
            &SIGNATURE.replace("sha256=", "sha1=")
        ));
        assert!(!verify(&secret(SECRET), PAYLOAD, "sha256=zz"));
        assert!(!verify(&secret(SECRET), PAYLOAD, "sha256="));
        // One digit off, and the digest cut short.
        let mut flipped = SIGNATURE.to_string();
        flipped.pop();
        flipped.push('6');
        assert!(!verify(&secret(SECRET), PAYLOAD, &flipped));
        assert!(!verify(
            &secret(SECRET),
            PAYLOAD,
            &SIGNATURE[..SIGNATURE.len() - 2]
        ));
    }
}
