//! Every command handler, fed a WBXML document that decodes but says
//! anything: the first byte picks the command (which need not match the
//! document, as a client's query need not match its body), the second the
//! protocol version, the rest is the body. Each input gets a throwaway
//! store on tmpfs holding two accounts, a provisioned device and two
//! messages (one S/MIME), and runs `cmd::dispatch` as the HTTP layer does,
//! on a runtime whose clock is paused so that held Pings and Sync waits end
//! at once. No handler panics, and every WBXML answer encodes.
#![no_main]

mod common;

use eas_proto::ProtocolVersion;
use eas_proto::http::{CommandParams, DeviceId, DeviceType, QueryForm, RequestLine};
use eas_proto::wbxml::Element;
use eas_server::cmd::{Context, IMPLEMENTED, Outcome, dispatch};
use eas_server::store::Store;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [command, version, body @ ..] = data else {
        return;
    };
    let command = IMPLEMENTED[usize::from(*command) % IMPLEMENTED.len()];
    let version = ProtocolVersion::ALL[usize::from(*version) % ProtocolVersion::ALL.len()];
    let config = common::config();
    let Ok(request) = Element::decode(body, config.wbxml_limits()) else {
        return;
    };

    let alice = common::account("alice", common::ALICE_HASH);
    let mut device = common::device(version, None);
    let server = common::throwaway(config, |store| store.put_device(&device).expect("a device"));
    let state = &server.state;
    let line = RequestLine {
        form: QueryForm::Plain,
        command,
        user: None,
        device_id: DeviceId::new("FUZZ1").expect("a device id"),
        device_type: DeviceType::new("iPhone").expect("a device type"),
        protocol_version: Some(version),
        policy_key: None,
        locale: None,
        params: CommandParams {
            collection_id: Some("1".into()),
            item_id: Some("1:1".into()),
            save_in_sent: Some(true),
            ..Default::default()
        },
    };
    let runtime = common::runtime();
    let mut notes = Vec::new();
    let outcome = runtime.block_on(async {
        let mut ctx = Context {
            state,
            account: &alice,
            device: &mut device,
            version,
            line: &line,
            raw_body: None,
            notes: &mut notes,
        };
        dispatch(&mut ctx, Some(&request)).await
    });
    if let Some(Outcome::Wbxml(response)) = &outcome {
        if let Err(e) = response.encode() {
            panic!("{command} answered with WBXML that does not encode: {e}\nnotes: {notes:?}");
        }
    }
    drop(runtime);
    drop(server);
});
