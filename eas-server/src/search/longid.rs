//! LongIds: the ids Search gives its mailbox results, which the client
//! hands back in ItemOperations Fetch, SmartReply, SmartForward and
//! MeetingResponse (MS-ASCMD LongId; "an opaque string of up to 256
//! characters").
//!
//! A LongId names an item of one account, not a place: it is the item's id
//! (which stays the same when the item moves), scrambled by a keyed
//! permutation of 64-bit numbers (a four-round Feistel network), followed
//! by a tag; key and tag are derived from the account's name and creation
//! time; all in URL-safe base64 (27 characters). So a LongId
//!
//! - works as soon as the Search response is sent, across restarts, and
//!   after the item moves to another folder; it stops working when the item
//!   is deleted;
//! - is opaque: nothing in it reads as a folder or a number;
//! - never resolves for another account, nor for a later account of the
//!   same name: the tag would not match (item ids are per account, so
//!   without it Bob's copy of Alice's LongId would name Bob's item with the
//!   same number).
//!
//! The tag is not a secret-keyed MAC and need not be one: an account can
//! only ever reach its own items, since every lookup is by the
//! authenticated account (DESIGN.md, promise 5). The tag makes a foreign or
//! stale LongId "not found" rather than another item.
//!
//! For the commands that take a LongId: [`resolve`] gives the item (or
//! `None`: answer the command's "not found" status); [`item_id`] gives only
//! the account-scoped item id, for callers that hold the [`Account`].

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::store::{Account, MailItem, Store, StoreResult};

const ID_LEN: usize = 8;
const TAG_LEN: usize = 12;

/// SHA-256 of a domain label, the account and `extra`.
fn derive(label: &[u8], account: &Account, extra: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(label);
    h.update([0]);
    h.update(account.name.as_bytes());
    h.update([0]);
    h.update(account.created.to_be_bytes());
    h.update(extra);
    h.finalize().into()
}

fn key(account: &Account) -> [u8; 32] {
    derive(b"eas longid key", account, &[])
}

fn round(key: &[u8; 32], round: u8, half: u32) -> u32 {
    let mut h = Sha256::new();
    h.update(key);
    h.update([round]);
    h.update(half.to_be_bytes());
    let [a, b, c, d, ..]: [u8; 32] = h.finalize().into();
    u32::from_be_bytes([a, b, c, d])
}

const ROUNDS: u8 = 4;

/// A permutation of the 64-bit numbers, one per account.
fn scramble(key: &[u8; 32], id: u64) -> u64 {
    let (mut l, mut r) = ((id >> 32) as u32, id as u32);
    for i in 0..ROUNDS {
        (l, r) = (r, l ^ round(key, i, r));
    }
    (u64::from(l) << 32) | u64::from(r)
}

fn unscramble(key: &[u8; 32], x: u64) -> u64 {
    let (mut l, mut r) = ((x >> 32) as u32, x as u32);
    for i in (0..ROUNDS).rev() {
        (l, r) = (r ^ round(key, i, l), l);
    }
    (u64::from(l) << 32) | u64::from(r)
}

fn tag(account: &Account, item: u64) -> [u8; 32] {
    derive(b"eas longid tag", account, &item.to_be_bytes())
}

/// The LongId of one of `account`'s items.
pub fn encode(account: &Account, item: u64) -> String {
    let mut raw = Vec::with_capacity(ID_LEN + TAG_LEN);
    raw.extend(scramble(&key(account), item).to_be_bytes());
    raw.extend(tag(account, item).iter().take(TAG_LEN));
    URL_SAFE_NO_PAD.encode(raw)
}

/// The item id a LongId names, if it is one of `account`'s LongIds.
pub fn item_id(account: &Account, long_id: &str) -> Option<u64> {
    if long_id.len() > 64 {
        return None;
    }
    let raw = URL_SAFE_NO_PAD.decode(long_id).ok()?;
    if raw.len() != ID_LEN + TAG_LEN {
        return None;
    }
    let (scrambled, sent_tag) = raw.split_at(ID_LEN);
    let scrambled: [u8; ID_LEN] = scrambled.try_into().ok()?;
    let item = unscramble(&key(account), u64::from_be_bytes(scrambled));
    let expected = tag(account, item);
    let same = expected
        .iter()
        .take(TAG_LEN)
        .zip(sent_tag)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    (same == 0).then_some(item)
}

/// The item a LongId names in the mailbox of the account called `account`,
/// if it still exists there.
pub fn resolve(store: &dyn Store, account: &str, long_id: &str) -> StoreResult<Option<MailItem>> {
    let Some(owner) = store.account(account)? else {
        return Ok(None);
    };
    match item_id(&owner, long_id) {
        Some(id) => store.item(account, id),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(name: &str, created: u64) -> Account {
        Account {
            name: name.into(),
            email: format!("{name}@example.com"),
            display_name: name.into(),
            password_hash: String::new(),
            created,
            oof: Default::default(),
        }
    }

    #[test]
    fn long_ids_round_trip_for_their_account_only() {
        let alice = account("alice", 1_700_000_000);
        let bob = account("bob", 1_700_000_000);
        for id in [0, 1, 42, u64::MAX] {
            let l = encode(&alice, id);
            assert_eq!(l.len(), 27);
            assert!(
                l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            );
            assert_eq!(item_id(&alice, &l), Some(id));
            assert_eq!(item_id(&bob, &l), None, "another account's LongId");
        }
        let reborn = account("alice", 1_800_000_000);
        assert_eq!(item_id(&reborn, &encode(&alice, 7)), None);
        assert_ne!(encode(&alice, 1), encode(&bob, 1));
        // Consecutive ids do not look consecutive.
        assert_ne!(encode(&alice, 1).get(..10), encode(&alice, 2).get(..10));
        let k = key(&alice);
        for id in [0, 1, 2, 1 << 32, u64::MAX, 0x0123_4567_89ab_cdef] {
            assert_eq!(unscramble(&k, scramble(&k, id)), id);
        }
    }

    #[test]
    fn garbage_is_not_found() {
        let alice = account("alice", 1);
        let good = encode(&alice, 5);
        let mut flipped = good.clone().into_bytes();
        if let Some(b) = flipped.get_mut(20) {
            *b = if *b == b'A' { b'B' } else { b'A' };
        }
        let flipped = String::from_utf8(flipped).unwrap();
        for bad in [
            "",
            "5",
            "1:5",
            "RgAAAACe5Xr5YZxASJAFrqPHB%2fEiBwCt1yEXMW8JQpVhG6tZKgLoAAAAGTDOAAAJ",
            &"A".repeat(300),
            &good[..26],
            &format!("{good}A"),
            &flipped,
        ] {
            assert_eq!(item_id(&alice, bad), None, "{bad}");
        }
    }
}
