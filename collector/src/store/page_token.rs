//! Keyset page tokens for host listings: the (hostname, id) of the last host of a page,
//! opaque to clients (URL-safe base64 of a length-prefixed hostname and the id).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::Error;

/// Position after which the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After {
    pub hostname: String,
    pub id: String,
}

/// Returns the token for the page after the host (hostname, id).
pub fn encode(hostname: &str, id: &str) -> String {
    // A length prefix rather than a separator, since a hostname comes from the agent and
    // may hold any byte.
    let mut raw = Vec::with_capacity(4 + hostname.len() + id.len());
    raw.extend_from_slice(
        &u32::try_from(hostname.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    raw.extend_from_slice(hostname.as_bytes());
    raw.extend_from_slice(id.as_bytes());
    URL_SAFE_NO_PAD.encode(raw)
}

/// Parses a token made by [`encode`].
pub fn decode(token: &str) -> Result<After, Error> {
    let raw = URL_SAFE_NO_PAD
        .decode(token.trim())
        .map_err(|_| Error::InvalidPageToken)?;
    let (len, rest) = raw
        .split_first_chunk::<4>()
        .ok_or(Error::InvalidPageToken)?;
    let len = usize::try_from(u32::from_be_bytes(*len)).map_err(|_| Error::InvalidPageToken)?;
    if rest.len() < len {
        return Err(Error::InvalidPageToken);
    }
    let (hostname, id) = rest.split_at(len);
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).map_err(|_| Error::InvalidPageToken);
    Ok(After {
        hostname: text(hostname)?,
        id: text(id)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for (h, i) in [("web-1", "h-1"), ("", "x"), ("a\0b", ""), ("héllo", "ünï")] {
            let after = decode(&encode(h, i)).unwrap();
            assert_eq!(
                after,
                After {
                    hostname: h.into(),
                    id: i.into()
                }
            );
        }
    }

    #[test]
    fn garbage_is_refused() {
        for bad in ["!!!", "", "AAAA", "AAAAEA"] {
            assert!(matches!(decode(bad), Err(Error::InvalidPageToken)), "{bad}");
        }
    }
}
