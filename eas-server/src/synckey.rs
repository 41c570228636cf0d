//! Sync keys on the wire: `{epoch}:{n}`, where the epoch is random per state
//! lineage. A key from a state that was thrown away (the device removed and
//! back, or a key-0 restart) never matches a new state by accident, so it
//! gets the spec's "invalid key" status rather than a guess (DESIGN.md,
//! promise 3). Clients treat keys as opaque strings of up to 64 characters.

use eas_proto::command::ids::SyncKey;

pub fn new_epoch() -> String {
    format!("{:08x}", rand::random::<u32>())
}

pub fn format(epoch: &str, n: u32) -> String {
    format!("{epoch}:{n}")
}

pub fn key(epoch: &str, n: u32) -> SyncKey {
    // Epochs are 8 hex digits and n at most 10 digits: always valid.
    SyncKey::new(format(epoch, n)).unwrap_or_else(|_| SyncKey::initial())
}

/// The number of a key of this epoch, or `None` for any other key.
pub fn parse(key: &str, epoch: &str) -> Option<u32> {
    let (e, n) = key.split_once(':')?;
    if e != epoch {
        return None;
    }
    n.parse().ok().filter(|n| *n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_belong_to_their_epoch() {
        let e = new_epoch();
        assert_eq!(parse(&format(&e, 7), &e), Some(7));
        assert_eq!(parse(&format("00000000", 7), "11111111"), None);
        assert_eq!(parse("0", &e), None);
        assert_eq!(parse(&format(&e, 0), &e), None);
        assert_eq!(parse("garbage", &e), None);
        assert_eq!(key(&e, 3).as_str(), format(&e, 3));
    }
}
