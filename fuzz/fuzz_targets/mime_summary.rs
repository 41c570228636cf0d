//! Arriving mail as LMTP, import or SendMail hand it over: any bytes, read
//! by the S/MIME classifier (headers only) and by the summariser the store
//! keeps for every message. Neither panics, and the summary's MessageClass
//! is the classifier's.
#![no_main]

use eas_server::mail::summary::summarize;
use libfuzzer_sys::fuzz_target;
use smime_core::classify;

fuzz_target!(|data: &[u8]| {
    let class = classify(data);
    assert_eq!(class.message_class(), classify(data).message_class());
    let summary = summarize(data);
    assert_eq!(summary.message_class, class.message_class());
    if class.is_smime() {
        assert!(!summary.has_attachments, "a signature is not an attachment");
    }
});
