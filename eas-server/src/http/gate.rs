//! Caps on what one client address or one account holds at once: open
//! connections per address, requests in progress per account. A held
//! Ping is a connection and a request for minutes, so without a cap one
//! misbehaving phone (or one attacker) could take every socket and task
//! the server has; with it, the others keep being served.
//!
//! A cap of 0 means none. The counts live in memory only: they describe
//! what is open now, which a restart closes anyway.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// Counts holders per key, up to a cap.
#[derive(Debug)]
pub struct Gate<K: Eq + Hash + Clone> {
    max: usize,
    held: Mutex<HashMap<K, usize>>,
}

/// One place through a [`Gate`]; dropping it gives the place back.
#[derive(Debug)]
pub struct Pass<K: Eq + Hash + Clone> {
    gate: Arc<Gate<K>>,
    key: K,
}

impl<K: Eq + Hash + Clone> Gate<K> {
    pub fn new(max: usize) -> Arc<Gate<K>> {
        Arc::new(Gate {
            max,
            held: Mutex::new(HashMap::new()),
        })
    }

    /// A pass for `key`, or `None` when `key` holds the maximum already.
    pub fn enter(self: &Arc<Self>, key: &K) -> Option<Pass<K>> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let count = held.entry(key.clone()).or_insert(0);
        if self.max != 0 && *count >= self.max {
            return None;
        }
        *count += 1;
        Some(Pass {
            gate: self.clone(),
            key: key.clone(),
        })
    }

    /// How many passes `key` holds now.
    pub fn held(&self, key: &K) -> usize {
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.get(key).copied().unwrap_or(0)
    }
}

impl<K: Eq + Hash + Clone> Drop for Pass<K> {
    fn drop(&mut self) {
        let mut held = self.gate.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = held.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                // An address or account that comes and goes leaves nothing.
                held.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_holds_up_to_the_cap_and_gets_places_back() {
        let gate = Gate::new(2);
        let a = gate.enter(&"a").unwrap();
        let _a2 = gate.enter(&"a").unwrap();
        assert!(gate.enter(&"a").is_none());
        // Another key is not held back by the first.
        let _b = gate.enter(&"b").unwrap();
        drop(a);
        assert_eq!(gate.held(&"a"), 1);
        assert!(gate.enter(&"a").is_some());
    }

    #[test]
    fn zero_is_no_cap_and_empty_keys_are_forgotten() {
        let gate = Gate::new(0);
        let passes: Vec<_> = (0..1000).map(|_| gate.enter(&1u8).unwrap()).collect();
        assert_eq!(gate.held(&1), 1000);
        drop(passes);
        assert!(gate.held.lock().unwrap().is_empty());
    }
}
