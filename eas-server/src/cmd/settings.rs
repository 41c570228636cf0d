//! Settings (MS-ASCMD 2.2.1.18): out-of-office, the recovery password, what
//! the device says about itself, the user's addresses, rights-management
//! templates. Each property gets its own status; the command's status is 1
//! unless the request could not be read.

use eas_proto::command::DateTime;
use eas_proto::command::settings::{
    self as s, Audience, BodyType, Oof, OofMessage, OofRequest, OofResponse, OofState, Request,
    Response, RightsManagementResponse, Status, UserInformation, UserInformationResponse,
};
use eas_proto::wbxml::Element;

use super::{Context, Outcome, blocking, note_bad_request};
use crate::store::{self, OofSettings};

pub async fn run(ctx: &mut Context<'_>, request: Option<&Element<'_>>) -> Outcome {
    let request = match request.map(Request::from_element) {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            note_bad_request(ctx, &e);
            return Outcome::Wbxml(Response::new(Status::PROTOCOL_ERROR).to_element());
        }
        None => {
            ctx.notes.push("Settings without a body".into());
            return Outcome::Wbxml(Response::new(Status::PROTOCOL_ERROR).to_element());
        }
    };
    let mut resp = Response::new(Status::SUCCESS);
    let mut account = ctx.account.clone();
    let mut account_changed = false;
    let mut device_changed = false;

    if request.rights_management_information {
        // No rights-management server is configured: there are no templates.
        resp.rights_management_information = Some(RightsManagementResponse {
            status: Status::SUCCESS,
            templates: Some(Vec::new()),
        });
    }
    match request.oof {
        Some(OofRequest::Get { body_type }) => {
            resp.oof = Some(OofResponse {
                status: Status::SUCCESS,
                get: Some(oof_from_store(&account.oof, body_type)),
            });
        }
        Some(OofRequest::Set(oof)) => {
            let status = match oof_to_store(&oof) {
                Ok(settings) => {
                    account.oof = settings;
                    account_changed = true;
                    Status::SUCCESS
                }
                Err(why) => {
                    ctx.notes.push(format!("Oof Set refused: {why}"));
                    Status::INVALID_ARGUMENTS
                }
            };
            resp.oof = Some(OofResponse { status, get: None });
        }
        None => {}
    }
    if let Some(password) = request.device_password {
        resp.device_password = Some(
            if ctx
                .state
                .config
                .provisioning
                .policy
                .password_recovery_enabled
            {
                ctx.device.recovery_password =
                    Some(store::RecoveryPassword(password.expose().to_owned()));
                device_changed = true;
                Status::SUCCESS
            } else {
                ctx.notes.push(
                    "DevicePassword refused: the policy does not enable password recovery".into(),
                );
                Status::DENIED_BY_POLICY
            },
        );
    }
    if let Some(info) = &request.device_information {
        super::provision::remember(ctx, info);
        device_changed = true;
        resp.device_information = Some(Status::SUCCESS);
    }
    if request.user_information {
        let me = s::Account {
            account_id: None,
            account_name: Some(account.email.clone()),
            user_display_name: Some(account.display_name.clone()),
            send_disabled: None,
            email_addresses: vec![account.email.clone()],
            primary_smtp_address: Some(account.email.clone()),
        };
        resp.user_information = Some(UserInformationResponse {
            status: Status::SUCCESS,
            get: Some(UserInformation::for_version(ctx.version, vec![me])),
        });
    }

    if account_changed || device_changed {
        let store = ctx.state.store.clone();
        let device = ctx.device.clone();
        let saved = blocking(move || -> Result<(), store::StoreError> {
            if account_changed {
                store.update_account(&account)?;
            }
            if device_changed {
                store.put_device(&device)?;
            }
            Ok(())
        })
        .await;
        if !matches!(saved, Some(Ok(()))) {
            tracing::error!(account = %ctx.account.name, "could not save settings");
            return Outcome::Wbxml(Response::new(Status::SERVER_UNAVAILABLE).to_element());
        }
    }
    Outcome::Wbxml(resp.to_element())
}

const AUDIENCES: [(Audience, &str); 3] = [
    (Audience::Internal, "Internal"),
    (Audience::ExternalKnown, "ExternalKnown"),
    (Audience::ExternalUnknown, "ExternalUnknown"),
];

/// The stored settings as a Get answer, with messages in the body type the
/// client asked for (MS-ASCMD 2.2.3.16: Text or HTML).
fn oof_from_store(settings: &OofSettings, body_type: Option<BodyType>) -> Oof {
    let wanted = body_type.unwrap_or(BodyType::Text);
    Oof {
        state: Some(OofState(settings.state)),
        start_time: settings.start_time.as_deref().and_then(DateTime::parse),
        end_time: settings.end_time.as_deref().and_then(DateTime::parse),
        messages: AUDIENCES
            .iter()
            .filter_map(|(audience, key)| {
                let m = settings.messages.get(*key)?;
                let reply = match (wanted, m.body_type.as_str()) {
                    (BodyType::Text, "HTML") => strip_tags(&m.reply),
                    (BodyType::Html, "Text") => {
                        format!("<html><body>{}</body></html>", escape_html(&m.reply))
                    }
                    _ => m.reply.clone(),
                };
                Some(OofMessage {
                    audience: *audience,
                    enabled: Some(m.enabled),
                    reply_message: Some(reply),
                    body_type: Some(wanted),
                })
            })
            .collect(),
    }
}

fn oof_to_store(oof: &Oof) -> Result<OofSettings, String> {
    let state = oof.state.map_or(0, |s| s.0);
    if state > 2 {
        return Err(format!("OofState {state} is not 0, 1 or 2"));
    }
    if state == OofState::TIME_BASED.0 {
        match (&oof.start_time, &oof.end_time) {
            (Some(start), Some(end)) if start.as_str() < end.as_str() => {}
            (Some(_), Some(_)) => return Err("EndTime is not after StartTime".into()),
            _ => return Err("a time-based OofState needs StartTime and EndTime".into()),
        }
    }
    let mut settings = OofSettings {
        state,
        start_time: oof.start_time.as_ref().map(|t| t.as_str().to_owned()),
        end_time: oof.end_time.as_ref().map(|t| t.as_str().to_owned()),
        messages: Default::default(),
    };
    for m in &oof.messages {
        let key = AUDIENCES
            .iter()
            .find(|(a, _)| *a == m.audience)
            .map_or("Internal", |(_, k)| k);
        settings.messages.insert(
            key.to_owned(),
            store::OofMessage {
                enabled: m.enabled.unwrap_or(false),
                reply: m.reply_message.clone().unwrap_or_default(),
                body_type: m.body_type.unwrap_or(BodyType::Text).as_str().to_owned(),
            },
        );
    }
    Ok(settings)
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oof_round_trips_through_the_store_and_converts_body_types() {
        let oof = Oof {
            state: Some(OofState::TIME_BASED),
            start_time: DateTime::parse("2026-12-20T00:00:00.000Z"),
            end_time: DateTime::parse("2027-01-05T00:00:00.000Z"),
            messages: vec![OofMessage {
                audience: Audience::ExternalUnknown,
                enabled: Some(true),
                reply_message: Some("Away <back soon> & well".into()),
                body_type: Some(BodyType::Text),
            }],
        };
        let stored = oof_to_store(&oof).unwrap();
        assert_eq!(oof_from_store(&stored, Some(BodyType::Text)), oof);
        let html = oof_from_store(&stored, Some(BodyType::Html));
        assert_eq!(
            html.messages[0].reply_message.as_deref(),
            Some("<html><body>Away &lt;back soon&gt; &amp; well</body></html>")
        );
    }

    #[test]
    fn time_based_oof_needs_an_ordered_window() {
        let mut oof = Oof {
            state: Some(OofState::TIME_BASED),
            start_time: None,
            end_time: None,
            messages: vec![],
        };
        assert!(oof_to_store(&oof).is_err());
        oof.start_time = DateTime::parse("2027-01-05T00:00:00.000Z");
        oof.end_time = DateTime::parse("2026-12-20T00:00:00.000Z");
        assert!(oof_to_store(&oof).is_err());
        oof.state = Some(OofState(7));
        assert!(oof_to_store(&oof).is_err());
    }
}
