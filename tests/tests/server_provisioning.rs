//! Provisioning (MS-ASPROV) against the real server: the policy gate in the
//! 14.x/16.x form (Status 142/144 in the command's response) and the 12.x
//! form (HTTP 449), remote wipe, and blocking and allowing devices through
//! the command line while the server runs.

// Test code: a failed expectation is meant to panic.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use eas_proto::ProtocolVersion;
use eas_proto::command::provision::{
    self, EasProvisionDoc, POLICY_TYPE_WBXML, PolicyData, PolicyStatus, WipeDirective,
};
use eas_proto::command::settings;
use eas_proto::http::PolicyKey;
use eas_tests::client::{EasClient, Reply};
use eas_tests::server::TestServer;

const POLICY: &str = "
[provisioning.policy]
device_password_enabled = true
require_signed_smime_messages = true
allow_smime_soft_certs = false
";

/// The Settings status of a 14.x+ answer that must be HTTP 200.
fn settings_status(reply: &Reply) -> settings::Status {
    reply.settings().status
}

fn assert_refused_14(reply: &Reply, status: u8) {
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(
        settings_status(reply),
        settings::Status(status),
        "{reply:?}"
    );
}

fn assert_refused_12(reply: &Reply) {
    assert_eq!(reply.status, 449, "{reply:?} {}", reply.text());
}

fn assert_served(reply: &Reply) {
    let resp = reply.settings();
    assert_eq!(resp.status, settings::Status::SUCCESS, "{resp:?}");
    assert!(resp.user_information.is_some(), "{resp:?}");
}

/// Phase one: the policy document and the temporary key.
fn phase_one(client: &EasClient) -> (EasProvisionDoc, PolicyKey) {
    let resp = client.download_policy().provision();
    assert_eq!(resp.status, provision::Status::SUCCESS, "{resp:?}");
    assert_eq!(resp.remote_wipe, None);
    let policy = resp.policy.expect("Policies/Policy");
    assert_eq!(policy.policy_type, POLICY_TYPE_WBXML);
    assert_eq!(policy.status, PolicyStatus::SUCCESS);
    let key = policy.policy_key.expect("a temporary key");
    assert_ne!(key, PolicyKey::NONE);
    let Some(PolicyData::Eas(doc)) = policy.data else {
        panic!("no EASProvisionDoc: {:?}", policy.data);
    };
    (*doc, key)
}

/// Phase two with `key`: the Policy status and key the server answers.
fn phase_two(client: &EasClient, key: PolicyKey) -> (PolicyStatus, Option<PolicyKey>) {
    let resp = client.acknowledge(key).provision();
    assert_eq!(resp.status, provision::Status::SUCCESS, "{resp:?}");
    let policy = resp.policy.expect("Policies/Policy");
    assert_eq!(policy.policy_type, POLICY_TYPE_WBXML);
    assert!(
        policy.data.is_none(),
        "an acknowledgement carries no policy"
    );
    (policy.status, policy.policy_key)
}

fn wrong(key: PolicyKey) -> PolicyKey {
    PolicyKey(key.0.wrapping_add(1).max(1))
}

#[test]
fn provisioning_in_the_14_and_16_families() {
    let server = TestServer::with_alice_and_config(POLICY);
    for (device_id, version) in [
        ("PROV14", ProtocolVersion::V14_1),
        ("PROV16", ProtocolVersion::V16_1),
    ] {
        let mut phone = server.alice(device_id, version);

        // Before provisioning: Status 142 inside the Settings response.
        assert_refused_14(&phone.user_information(), 142);

        let (doc, temporary) = phase_one(&phone);
        assert_eq!(doc.require_signed_smime_messages, Some(true), "{doc:?}");
        assert_eq!(doc.allow_smime_soft_certs, Some(false), "{doc:?}");
        assert_eq!(doc.device_password_enabled, Some(true), "{doc:?}");
        // Left at its default.
        assert_eq!(doc.attachments_enabled, Some(true), "{doc:?}");

        // Holding only the temporary key is not being provisioned.
        phone.policy_key = Some(temporary);
        assert_refused_14(&phone.user_information(), 142);

        // Acknowledging a key the server never gave.
        let (status, key) = phase_two(&phone, wrong(temporary));
        assert_eq!(status, PolicyStatus::WRONG_POLICY_KEY);
        assert_eq!(key, None);

        let (status, key) = phase_two(&phone, temporary);
        assert_eq!(status, PolicyStatus::SUCCESS);
        let final_key = key.expect("a final key");
        assert_ne!(final_key, temporary);
        assert_ne!(final_key, PolicyKey::NONE);

        // The temporary key is spent.
        let (status, key) = phase_two(&phone, temporary);
        assert_eq!(status, PolicyStatus::WRONG_POLICY_KEY);
        assert_eq!(key, None);

        phone.policy_key = Some(final_key);
        assert_served(&phone.user_information());

        phone.policy_key = Some(temporary);
        assert_refused_14(&phone.user_information(), 144);
        phone.policy_key = None;
        assert_refused_14(&phone.user_information(), 142);
        phone.policy_key = Some(PolicyKey::NONE);
        assert_refused_14(&phone.user_information(), 142);

        // A second device of the same account starts from nothing, and
        // neither device's key works for the other.
        let mut second = server.alice(&format!("{device_id}-2"), version);
        assert_refused_14(&second.user_information(), 142);
        second.policy_key = Some(final_key);
        assert_refused_14(&second.user_information(), 142);
        let second_key = second.provision_fully();
        assert_ne!(second_key, final_key);
        assert_served(&second.user_information());

        phone.policy_key = Some(second_key);
        assert_refused_14(&phone.user_information(), 144);
        phone.policy_key = Some(final_key);
        assert_served(&phone.user_information());
    }
}

#[test]
fn provisioning_in_the_12_family_answers_449() {
    let server = TestServer::with_alice_and_config(POLICY);
    let mut phone = server.alice("PROV12", ProtocolVersion::V12_1);

    assert_refused_12(&phone.user_information());

    let (doc, temporary) = phase_one(&phone);
    assert_eq!(doc.device_password_enabled, Some(true), "{doc:?}");
    assert_eq!(doc.require_signed_smime_messages, Some(true), "{doc:?}");

    phone.policy_key = Some(temporary);
    assert_refused_12(&phone.user_information());

    let (status, key) = phase_two(&phone, wrong(temporary));
    assert_eq!(status, PolicyStatus::WRONG_POLICY_KEY);
    assert_eq!(key, None);
    let (status, key) = phase_two(&phone, temporary);
    assert_eq!(status, PolicyStatus::SUCCESS);
    let final_key = key.expect("a final key");
    assert_ne!(final_key, temporary);

    phone.policy_key = Some(final_key);
    assert_served(&phone.user_information());
    phone.policy_key = Some(temporary);
    assert_refused_12(&phone.user_information());
    phone.policy_key = None;
    assert_refused_12(&phone.user_information());

    let mut second = server.alice("PROV12-2", ProtocolVersion::V12_1);
    second.policy_key = Some(final_key);
    assert_refused_12(&second.user_information());
    second.provision_fully();
    assert_served(&second.user_information());
    phone.policy_key = Some(final_key);
    assert_served(&phone.user_information());

    // 12.0 knows only the first settings of the document: it is not sent
    // the ones it cannot read (MS-ASPROV 2.2.2.27).
    let old = server.alice("PROV120", ProtocolVersion::V12_0);
    assert_refused_12(&old.user_information());
    let (doc, _) = phase_one(&old);
    assert_eq!(doc.device_password_enabled, Some(true), "{doc:?}");
    assert_eq!(doc.require_signed_smime_messages, None, "{doc:?}");
    assert_eq!(doc.allow_smime_soft_certs, None, "{doc:?}");
}

/// The `device list NAME` line of a device.
fn device_line(server: &TestServer, account: &str, device_id: &str) -> String {
    let list = server.cli_ok(&["device", "list", account], "");
    list.lines()
        .find(|l| l.split_whitespace().nth(1) == Some(device_id))
        .unwrap_or_else(|| panic!("{device_id} not in\n{list}"))
        .to_owned()
}

/// Requests a wipe, checks the gate's answer, hands the wipe over through
/// Provision and acknowledges it.
fn wipe_round_trip(
    server: &TestServer,
    phone: &EasClient,
    account_only: bool,
    refused: impl Fn(&Reply),
) {
    let mut args = vec!["device", "wipe", "alice", phone.device_id.as_str()];
    if account_only {
        args.push("--account-only");
    }
    let said = server.cli_ok(&args, "");
    assert!(said.contains("queued"), "{said}");
    assert!(
        device_line(server, "alice", &phone.device_id).contains("wipe-pending"),
        "{}",
        device_line(server, "alice", &phone.device_id)
    );

    refused(&phone.user_information());

    // The device's Provision now brings the wipe instead of a policy.
    let resp = phone.download_policy().provision();
    assert_eq!(resp.status, provision::Status::SUCCESS);
    let expected = if account_only {
        WipeDirective::AccountOnly
    } else {
        WipeDirective::Device
    };
    assert_eq!(resp.remote_wipe, Some(expected), "{resp:?}");
    assert!(resp.policy.is_none(), "{resp:?}");
    let element_name = if account_only {
        "AccountOnlyRemoteWipe"
    } else {
        "RemoteWipe"
    };
    let xml = eas_proto::xml::to_xml(&phone.download_policy().element());
    assert!(xml.contains(&format!("<{element_name}/>")), "{xml}");

    let ack = phone.acknowledge_wipe(account_only).provision();
    assert_eq!(ack.status, provision::Status::SUCCESS, "{ack:?}");
    let line = device_line(server, "alice", &phone.device_id);
    assert!(line.contains("wiped(1)"), "{line}");
}

#[test]
fn remote_wipe_through_the_running_server() {
    let server = TestServer::with_alice();

    let mut phone14 = server.alice("WIPE14", ProtocolVersion::V14_1);
    phone14.provision_fully();
    assert_served(&phone14.user_information());
    wipe_round_trip(&server, &phone14, false, |r| assert_refused_14(r, 140));

    let mut phone12 = server.alice("WIPE12", ProtocolVersion::V12_1);
    phone12.provision_fully();
    assert_served(&phone12.user_information());
    wipe_round_trip(&server, &phone12, false, assert_refused_12);

    let mut phone16 = server.alice("WIPE161", ProtocolVersion::V16_1);
    phone16.provision_fully();
    assert_served(&phone16.user_information());
    wipe_round_trip(&server, &phone16, true, |r| assert_refused_14(r, 140));

    // Another device of the account was never touched.
    let mut bystander = server.alice("WIPE-NOT", ProtocolVersion::V16_1);
    bystander.provision_fully();
    assert_served(&bystander.user_information());
    let line = device_line(&server, "alice", "WIPE-NOT");
    assert!(!line.contains("wipe"), "{line}");
}

#[test]
fn blocked_devices_are_refused_until_allowed() {
    let server = TestServer::with_alice();
    let mut phone14 = server.alice("BLOCK14", ProtocolVersion::V14_1);
    phone14.provision_fully();
    let mut phone12 = server.alice("BLOCK12", ProtocolVersion::V12_1);
    phone12.provision_fully();
    let mut other = server.alice("BLOCK-NOT", ProtocolVersion::V14_1);
    other.provision_fully();

    for phone in [&phone14, &phone12] {
        assert_served(&phone.user_information());
        server.cli_ok(&["device", "block", "alice", &phone.device_id], "");
    }
    assert_refused_14(&phone14.user_information(), 129);
    let blocked = phone12.user_information();
    assert_eq!(blocked.status, 403, "{blocked:?}");
    assert_served(&other.user_information());
    assert!(device_line(&server, "alice", "BLOCK14").contains("Blocked"));

    for phone in [&phone14, &phone12] {
        server.cli_ok(&["device", "allow", "alice", &phone.device_id], "");
        assert_served(&phone.user_information());
    }
    assert!(device_line(&server, "alice", "BLOCK14").contains("Allowed"));
}
