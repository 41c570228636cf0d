//! Provision (MS-ASPROV 3.2.5): hand out the policy under a temporary key,
//! take the device's acknowledgement and give it the final key, deliver and
//! record remote wipes.

use eas_proto::ProtocolVersion;
use eas_proto::command::provision::{
    AckStatus, POLICY_TYPE_WBXML, PolicyData, PolicyResponse, PolicyStatus, Request, RequestBody,
    Response, Status, WipeDirective,
};
use eas_proto::command::settings::{self, DeviceInformation};
use eas_proto::http::PolicyKey;
use eas_proto::wbxml::Element;

use super::{Context, Outcome, blocking, note_bad_request};
use crate::store::{Access, WipeKind};
use crate::time;

pub async fn run(ctx: &mut Context<'_>, request: Option<&Element<'_>>) -> Outcome {
    let request = match request.map(Request::from_element) {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            note_bad_request(ctx, &e);
            return Outcome::Wbxml(response(Status::PROTOCOL_ERROR).to_element());
        }
        // MS-ASPROV 3.1.5.1.1: an empty Provision asks for a pending wipe.
        None => Request {
            device_information: None,
            body: RequestBody::Empty,
        },
    };
    let mut resp = response(Status::SUCCESS);
    if let Some(info) = &request.device_information {
        remember(ctx, info);
        resp.device_information = Some(settings::Status::SUCCESS);
    }
    let mut save = request.device_information.is_some();
    match request.body {
        RequestBody::Empty | RequestBody::Download { .. } if wipe_directive(ctx).is_some() => {
            resp.remote_wipe = wipe_directive(ctx);
            ctx.notes.push("remote wipe sent".into());
        }
        RequestBody::Empty => {}
        RequestBody::Download { policy_type } => {
            resp.policy = Some(download(ctx, &policy_type));
            save = true;
        }
        RequestBody::Acknowledge {
            policy_type,
            policy_key,
            status,
        } => {
            let (top, policy) = acknowledge(ctx, &policy_type, policy_key, status);
            resp.status = top;
            resp.policy = Some(policy);
            save = true;
        }
        RequestBody::RemoteWipeAck(status) | RequestBody::AccountOnlyRemoteWipeAck(status) => {
            match ctx.device.wipe.as_mut() {
                Some(wipe) => {
                    wipe.acknowledged = Some((time::now(), u32::from(status.0)));
                    ctx.notes
                        .push(format!("remote wipe acknowledged with status {status}"));
                    save = true;
                }
                None => {
                    ctx.notes
                        .push("a wipe acknowledgement without a wipe request".into());
                    resp.status = Status::PROTOCOL_ERROR;
                }
            }
        }
    }
    if save {
        let store = ctx.state.store.clone();
        let device = ctx.device.clone();
        match blocking(move || store.put_device(&device)).await {
            Some(Ok(())) => {}
            _ => {
                // The key is not on disk, so it must not reach the device.
                tracing::error!(device = %ctx.device.device_id, "could not save the device's provisioning state");
                return Outcome::Wbxml(response(Status::SERVER_ERROR).to_element());
            }
        }
    }
    Outcome::Wbxml(resp.to_element())
}

fn response(status: Status) -> Response {
    Response {
        device_information: None,
        status,
        policy: None,
        remote_wipe: None,
    }
}

/// The wipe to send, if one waits. An account-only wipe exists from 16.1;
/// an older device is not wiped whole for it, it is blocked instead.
fn wipe_directive(ctx: &mut Context<'_>) -> Option<WipeDirective> {
    let wipe = ctx.device.wipe.as_ref()?;
    match wipe.kind {
        WipeKind::Full => Some(WipeDirective::Device),
        WipeKind::AccountOnly if ctx.version >= ProtocolVersion::V16_1 => {
            Some(WipeDirective::AccountOnly)
        }
        WipeKind::AccountOnly => {
            ctx.device.access = Access::Blocked;
            ctx.device.access_by_admin = true;
            ctx.notes
                .push("account-only wipe needs 16.1; the device is blocked instead".into());
            None
        }
    }
}

/// Keeps what the device says about itself, from Provision (14.1) or Settings.
pub fn remember(ctx: &mut Context<'_>, info: &DeviceInformation) {
    let fields = [
        ("Model", &info.model),
        ("IMEI", &info.imei),
        ("FriendlyName", &info.friendly_name),
        ("OS", &info.os),
        ("OSLanguage", &info.os_language),
        ("PhoneNumber", &info.phone_number),
        ("UserAgent", &info.user_agent),
        ("MobileOperator", &info.mobile_operator),
    ];
    for (name, value) in fields {
        if let Some(v) = value {
            ctx.device.info.insert(name.to_owned(), v.clone());
        }
    }
    if let Some(sms) = info.enable_outbound_sms {
        ctx.device.info.insert(
            "EnableOutboundSMS".into(),
            if sms { "1" } else { "0" }.into(),
        );
    }
}

/// A key no device holds yet; 0 means "none" on the wire.
fn new_key() -> PolicyKey {
    loop {
        let k: u32 = rand::random();
        if k != 0 {
            return PolicyKey(k);
        }
    }
}

/// Phase one: the policy and a temporary key.
fn download(ctx: &mut Context<'_>, policy_type: &str) -> PolicyResponse {
    if policy_type != POLICY_TYPE_WBXML {
        ctx.notes
            .push(format!("unknown policy type {policy_type:?}"));
        return PolicyResponse {
            policy_type: policy_type.to_owned(),
            status: PolicyStatus::UNKNOWN_POLICY_TYPE,
            policy_key: None,
            data: None,
        };
    }
    let key = new_key();
    ctx.device.policy.pending_key = Some(key.0);
    let doc = ctx
        .state
        .config
        .provisioning
        .policy
        .document()
        .for_version(ctx.version);
    ctx.notes
        .push(format!("policy sent under temporary key {key}"));
    PolicyResponse {
        policy_type: policy_type.to_owned(),
        status: PolicyStatus::SUCCESS,
        policy_key: Some(key),
        data: Some(PolicyData::Eas(Box::new(doc))),
    }
}

/// Phase two: the device says how it applied the policy; a compliant one
/// (or any, when non-provisionable devices are allowed) gets the final key.
fn acknowledge(
    ctx: &mut Context<'_>,
    policy_type: &str,
    key: PolicyKey,
    status: AckStatus,
) -> (Status, PolicyResponse) {
    let mut policy = PolicyResponse {
        policy_type: policy_type.to_owned(),
        status: PolicyStatus::SUCCESS,
        policy_key: None,
        data: None,
    };
    if ctx.device.policy.pending_key != Some(key.0) {
        ctx.notes.push(format!(
            "acknowledgement under key {key}, which this device was not given"
        ));
        policy.status = PolicyStatus::WRONG_POLICY_KEY;
        return (Status::SUCCESS, policy);
    }
    let compliant = matches!(
        status,
        AckStatus::SUCCESS | AckStatus::PROVISIONED_BY_THIRD_PARTY
    );
    if !compliant && !ctx.state.config.provisioning.allow_non_provisionable {
        ctx.notes.push(format!("the device applied the policy only partly (status {status}); full compliance is required"));
        ctx.device.policy.pending_key = None;
        return (Status::DEVICE_NOT_FULLY_PROVISIONABLE, policy);
    }
    let final_key = new_key();
    ctx.device.policy.key = Some(final_key.0);
    ctx.device.policy.pending_key = None;
    ctx.device.policy.policy_hash = Some(ctx.state.policy_fingerprint(ctx.version).to_owned());
    ctx.notes.push(format!(
        "provisioned under key {final_key} (device status {status})"
    ));
    policy.policy_key = Some(final_key);
    (Status::SUCCESS, policy)
}
