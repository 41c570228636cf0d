//! Settings (MS-ASCMD 2.2.1.18): out-of-office state, the device password
//! for recovery, what the device says about itself, the user's addresses
//! and the rights-management templates, each read (`Get`) or written
//! (`Set`) under its own element, each answered with its own `Status`.
//!
//! `DeviceInformation` also appears in Provision from 14.1, which is why
//! [`DeviceInformation`] lives here and is public.

use super::{
    CommandError, DateTime, Secret, bool_element, boolean, child, child_text, expect_root, number,
    required, text, text_element,
};
use crate::codepages::{rightsmanagement as rm, settings as s};
use crate::number::number_enum;
use crate::version::ProtocolVersion;
use crate::wbxml::{Element, Tag};

number_enum! {
    /// Every `Status` of a Settings response (MS-ASCMD 2.2.3.177.15): the
    /// overall one under `Settings` and the per-property ones under `Oof`,
    /// `DevicePassword`, `DeviceInformation`, `UserInformation` and
    /// `RightsManagementInformation` (which use 1, 2, 5 and 6). Values 100
    /// to 255 are reserved for property-specific errors; anything but 1
    /// is a failure.
    pub struct Status(u8) {
        SUCCESS = 1,
        PROTOCOL_ERROR = 2,
        ACCESS_DENIED = 3,
        SERVER_UNAVAILABLE = 4,
        INVALID_ARGUMENTS = 5,
        CONFLICTING_ARGUMENTS = 6,
        DENIED_BY_POLICY = 7,
    }
}

number_enum! {
    /// `OofState` (MS-ASCMD 2.2.3.124). `TIME_BASED` is required when
    /// `StartTime` and `EndTime` are given.
    pub struct OofState(u8) {
        DISABLED = 0,
        GLOBAL = 1,
        TIME_BASED = 2,
    }
}

/// The longest recovery password the spec allows (MS-ASCMD 2.2.3.132.3).
pub const MAX_PASSWORD_LEN: usize = 255;

/// What a device says about itself (MS-ASCMD 2.2.3.45, `Set` children in
/// 2.2.3.167). Every field optional; `EnableOutboundSMS` and
/// `MobileOperator` exist from 14.0, `UserAgent` from 12.1.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceInformation {
    pub model: Option<String>,
    /// The 15-digit IMEI of a phone.
    pub imei: Option<String>,
    pub friendly_name: Option<String>,
    pub os: Option<String>,
    pub os_language: Option<String>,
    pub phone_number: Option<String>,
    pub user_agent: Option<String>,
    /// Whether the server may send SMS through the device.
    pub enable_outbound_sms: Option<bool>,
    pub mobile_operator: Option<String>,
}

impl DeviceInformation {
    /// Reads `DeviceInformation`, which holds the properties in a `Set`.
    pub fn from_element(el: &Element<'_>) -> Result<DeviceInformation, CommandError> {
        expect_root(el, s::DeviceInformation)?;
        let set = required(el, s::Set)?;
        Ok(DeviceInformation {
            model: child_text(set, s::Model)?,
            imei: child_text(set, s::IMEI)?,
            friendly_name: child_text(set, s::FriendlyName)?,
            os: child_text(set, s::OS)?,
            os_language: child_text(set, s::OSLanguage)?,
            phone_number: child_text(set, s::PhoneNumber)?,
            user_agent: child_text(set, s::UserAgent)?,
            enable_outbound_sms: child(set, s::EnableOutboundSMS)?.map(boolean).transpose()?,
            mobile_operator: child_text(set, s::MobileOperator)?,
        })
    }

    /// `DeviceInformation/Set`, properties in the order of 2.2.3.167.
    pub fn to_element(&self) -> Element<'static> {
        let mut set = Element::new(s::Set);
        let texts = [
            (s::Model, &self.model),
            (s::IMEI, &self.imei),
            (s::FriendlyName, &self.friendly_name),
            (s::OS, &self.os),
            (s::OSLanguage, &self.os_language),
            (s::PhoneNumber, &self.phone_number),
            (s::UserAgent, &self.user_agent),
        ];
        for (tag, value) in texts {
            if let Some(v) = value {
                set.push(text_element(tag, v.clone()));
            }
        }
        if let Some(b) = self.enable_outbound_sms {
            set.push(bool_element(s::EnableOutboundSMS, b));
        }
        if let Some(v) = &self.mobile_operator {
            set.push(text_element(s::MobileOperator, v.clone()));
        }
        Element::new(s::DeviceInformation).with(set)
    }
}

/// The format of an out-of-office reply (`BodyType`).
/// Clients differ in letter case, so any case is read; `Text` and `HTML`
/// are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BodyType {
    Text,
    Html,
}

impl BodyType {
    pub fn as_str(self) -> &'static str {
        match self {
            BodyType::Text => "Text",
            BodyType::Html => "HTML",
        }
    }

    fn from_element(el: &Element<'_>) -> Result<BodyType, CommandError> {
        let t = text(el)?;
        if t.eq_ignore_ascii_case("text") {
            Ok(BodyType::Text)
        } else if t.eq_ignore_ascii_case("html") {
            Ok(BodyType::Html)
        } else {
            Err(CommandError::invalid(el.tag, t, "Text or HTML"))
        }
    }
}

/// Who an out-of-office message is for (the `AppliesTo*` elements).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    Internal,
    /// External senders in the user's contacts.
    ExternalKnown,
    ExternalUnknown,
}

impl Audience {
    const TAGS: [(Tag, Audience); 3] = [
        (s::AppliesToInternal, Audience::Internal),
        (s::AppliesToExternalKnown, Audience::ExternalKnown),
        (s::AppliesToExternalUnknown, Audience::ExternalUnknown),
    ];

    fn tag(self) -> Tag {
        match self {
            Audience::Internal => s::AppliesToInternal,
            Audience::ExternalKnown => s::AppliesToExternalKnown,
            Audience::ExternalUnknown => s::AppliesToExternalUnknown,
        }
    }
}

/// One `OofMessage` (MS-ASCMD 2.2.3.123).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OofMessage {
    pub audience: Audience,
    pub enabled: Option<bool>,
    pub reply_message: Option<String>,
    pub body_type: Option<BodyType>,
}

impl OofMessage {
    fn from_element(el: &Element<'_>) -> Result<OofMessage, CommandError> {
        let mut audiences = Audience::TAGS
            .into_iter()
            .filter(|(tag, _)| el.children_with(*tag).next().is_some());
        let Some((first_tag, audience)) = audiences.next() else {
            return Err(CommandError::Missing {
                parent: el.tag,
                missing: s::AppliesToInternal,
            });
        };
        if let Some((second, _)) = audiences.next() {
            return Err(CommandError::Conflict {
                parent: el.tag,
                first: first_tag,
                second,
            });
        }
        required(el, first_tag)?;
        Ok(OofMessage {
            audience,
            enabled: child(el, s::Enabled)?.map(boolean).transpose()?,
            reply_message: child_text(el, s::ReplyMessage)?,
            body_type: child(el, s::BodyType)?
                .map(BodyType::from_element)
                .transpose()?,
        })
    }

    fn to_element(&self) -> Element<'static> {
        let mut el = Element::new(s::OofMessage).with(Element::new(self.audience.tag()));
        if let Some(b) = self.enabled {
            el.push(bool_element(s::Enabled, b));
        }
        if let Some(m) = &self.reply_message {
            el.push(text_element(s::ReplyMessage, m.clone()));
        }
        if let Some(b) = self.body_type {
            el.push(text_element(s::BodyType, b.as_str()));
        }
        el
    }
}

/// Out-of-office settings: what a `Set` writes and a `Get` returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Oof {
    pub state: Option<OofState>,
    pub start_time: Option<DateTime>,
    pub end_time: Option<DateTime>,
    pub messages: Vec<OofMessage>,
}

impl Oof {
    /// Reads the children of a `Get` (response) or `Set` (request).
    fn from_element(el: &Element<'_>) -> Result<Oof, CommandError> {
        Ok(Oof {
            state: child(el, s::OofState)?
                .map(|e| number(e, "an OOF state"))
                .transpose()?,
            start_time: child(el, s::StartTime)?
                .map(DateTime::from_element)
                .transpose()?,
            end_time: child(el, s::EndTime)?
                .map(DateTime::from_element)
                .transpose()?,
            messages: el
                .children_with(s::OofMessage)
                .map(OofMessage::from_element)
                .collect::<Result<_, _>>()?,
        })
    }

    fn to_element(&self, tag: Tag) -> Element<'static> {
        let mut el = Element::new(tag);
        if let Some(state) = self.state {
            el.push(text_element(s::OofState, state.as_text()));
        }
        if let Some(t) = &self.start_time {
            el.push(text_element(s::StartTime, t.as_str()));
        }
        if let Some(t) = &self.end_time {
            el.push(text_element(s::EndTime, t.as_str()));
        }
        for m in &self.messages {
            el.push(m.to_element());
        }
        el
    }
}

/// What a request asks of `Oof`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OofRequest {
    /// The current settings, with messages in this format (the spec
    /// requires `BodyType` here; a client that omits it gets text).
    Get {
        body_type: Option<BodyType>,
    },
    Set(Oof),
}

/// A Settings request. Every property is optional, and one request may
/// carry several.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// `RightsManagementInformation/Get` (14.1 and later).
    pub rights_management_information: bool,
    pub oof: Option<OofRequest>,
    /// `DevicePassword/Set/Password`: the recovery password to store; an
    /// empty one clears it.
    pub device_password: Option<Secret>,
    pub device_information: Option<DeviceInformation>,
    /// `UserInformation/Get`.
    pub user_information: bool,
}

/// Checks that a property element holds its `Get`, for properties that
/// have nothing else.
fn get_only(el: &Element<'_>) -> Result<bool, CommandError> {
    required(el, s::Get).map(|_| true)
}

impl Request {
    pub fn from_element(el: &Element<'_>) -> Result<Request, CommandError> {
        expect_root(el, s::Settings)?;
        let oof = match child(el, s::Oof)? {
            None => None,
            Some(oof) => Some(match (child(oof, s::Get)?, child(oof, s::Set)?) {
                (Some(get), None) => OofRequest::Get {
                    body_type: child(get, s::BodyType)?
                        .map(BodyType::from_element)
                        .transpose()?,
                },
                (None, Some(set)) => OofRequest::Set(Oof::from_element(set)?),
                (Some(_), Some(_)) => {
                    return Err(CommandError::Conflict {
                        parent: s::Oof,
                        first: s::Get,
                        second: s::Set,
                    });
                }
                (None, None) => {
                    return Err(CommandError::Missing {
                        parent: s::Oof,
                        missing: s::Get,
                    });
                }
            }),
        };
        let device_password = match child(el, s::DevicePassword)? {
            None => None,
            Some(dp) => {
                let password = required(required(dp, s::Set)?, s::Password)?;
                let value = text(password)?;
                if value.chars().count() > MAX_PASSWORD_LEN {
                    // Not quoted: it is a password.
                    return Err(CommandError::Invalid {
                        tag: s::Password,
                        value: String::new(),
                        expected: "at most 255 characters",
                    });
                }
                Some(Secret::new(value))
            }
        };
        Ok(Request {
            rights_management_information: child(el, s::RightsManagementInformation)?
                .map(get_only)
                .transpose()?
                .unwrap_or(false),
            oof,
            device_password,
            device_information: child(el, s::DeviceInformation)?
                .map(DeviceInformation::from_element)
                .transpose()?,
            user_information: child(el, s::UserInformation)?
                .map(get_only)
                .transpose()?
                .unwrap_or(false),
        })
    }

    pub fn to_element(&self) -> Element<'static> {
        let mut el = Element::new(s::Settings);
        if self.rights_management_information {
            el.push(Element::new(s::RightsManagementInformation).with(Element::new(s::Get)));
        }
        match &self.oof {
            Some(OofRequest::Get { body_type }) => {
                let mut get = Element::new(s::Get);
                if let Some(b) = body_type {
                    get.push(text_element(s::BodyType, b.as_str()));
                }
                el.push(Element::new(s::Oof).with(get));
            }
            Some(OofRequest::Set(oof)) => {
                el.push(Element::new(s::Oof).with(oof.to_element(s::Set)))
            }
            None => {}
        }
        if let Some(password) = &self.device_password {
            el.push(
                Element::new(s::DevicePassword)
                    .with(Element::new(s::Set).with(text_element(s::Password, password.expose()))),
            );
        }
        if let Some(info) = &self.device_information {
            el.push(info.to_element());
        }
        if self.user_information {
            el.push(Element::new(s::UserInformation).with(Element::new(s::Get)));
        }
        el
    }
}

/// One rights-management template (MS-ASRM `RightsManagementTemplate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RightsManagementTemplate {
    pub id: String,
    pub name: String,
    pub description: String,
}

/// The answer to `RightsManagementInformation/Get`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RightsManagementResponse {
    pub status: Status,
    /// `None` leaves out the `Get` (on failure); `Some` of an empty list
    /// says there are no templates.
    pub templates: Option<Vec<RightsManagementTemplate>>,
}

/// The answer to `Oof`: the status, and the settings for a `Get`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OofResponse {
    pub status: Status,
    pub get: Option<Oof>,
}

/// One account of the user (`Account`, 14.1 and later).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    pub account_id: Option<String>,
    pub account_name: Option<String>,
    pub user_display_name: Option<String>,
    /// The account may not send mail.
    pub send_disabled: Option<bool>,
    pub email_addresses: Vec<String>,
    pub primary_smtp_address: Option<String>,
}

/// The user's addresses, in the shape the client's version reads: a flat `EmailAddresses` list before 14.1,
/// `Accounts` from 14.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserInformation {
    EmailAddresses(Vec<String>),
    Accounts(Vec<Account>),
}

impl UserInformation {
    /// The right shape for `version`, from the accounts the server knows.
    pub fn for_version(version: ProtocolVersion, accounts: Vec<Account>) -> UserInformation {
        if version >= ProtocolVersion::V14_1 {
            UserInformation::Accounts(accounts)
        } else {
            UserInformation::EmailAddresses(
                accounts
                    .into_iter()
                    .flat_map(|a| a.email_addresses)
                    .collect(),
            )
        }
    }
}

/// The answer to `UserInformation/Get`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInformationResponse {
    pub status: Status,
    pub get: Option<UserInformation>,
}

/// A Settings response: the overall status, and one answer for each
/// property the request named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: Status,
    pub rights_management_information: Option<RightsManagementResponse>,
    pub oof: Option<OofResponse>,
    pub device_password: Option<Status>,
    pub device_information: Option<Status>,
    pub user_information: Option<UserInformationResponse>,
}

impl Response {
    /// A response of this overall status and nothing else, to fill in.
    pub fn new(status: Status) -> Response {
        Response {
            status,
            rights_management_information: None,
            oof: None,
            device_password: None,
            device_information: None,
            user_information: None,
        }
    }

    pub fn from_element(el: &Element<'_>) -> Result<Response, CommandError> {
        expect_root(el, s::Settings)?;
        let status_of = |e: &Element<'_>| number(required(e, s::Status)?, "a Settings status");
        let rights_management_information = match child(el, s::RightsManagementInformation)? {
            None => None,
            Some(rmi) => Some(RightsManagementResponse {
                status: status_of(rmi)?,
                templates: child(rmi, s::Get)?
                    .map(|get| match child(get, rm::RightsManagementTemplates)? {
                        None => Ok(Vec::new()),
                        Some(list) => list
                            .children_with(rm::RightsManagementTemplate)
                            .map(|t| {
                                let field =
                                    |tag| required(t, tag).and_then(text).map(str::to_owned);
                                Ok(RightsManagementTemplate {
                                    id: field(rm::TemplateID)?,
                                    name: field(rm::TemplateName)?,
                                    description: field(rm::TemplateDescription)?,
                                })
                            })
                            .collect(),
                    })
                    .transpose()?,
            }),
        };
        let oof = match child(el, s::Oof)? {
            None => None,
            Some(oof) => Some(OofResponse {
                status: status_of(oof)?,
                get: child(oof, s::Get)?.map(Oof::from_element).transpose()?,
            }),
        };
        let user_information = match child(el, s::UserInformation)? {
            None => None,
            Some(ui) => Some(UserInformationResponse {
                status: status_of(ui)?,
                get: child(ui, s::Get)?.map(user_information).transpose()?,
            }),
        };
        Ok(Response {
            status: status_of(el)?,
            rights_management_information,
            oof,
            device_password: child(el, s::DevicePassword)?.map(status_of).transpose()?,
            device_information: child(el, s::DeviceInformation)?
                .map(status_of)
                .transpose()?,
            user_information,
        })
    }

    /// Properties in the order of the Settings response schema.
    pub fn to_element(&self) -> Element<'static> {
        let status = |s: Status| text_element(s::Status, s.as_text());
        let mut el = Element::new(s::Settings).with(status(self.status));
        if let Some(rmi) = &self.rights_management_information {
            let mut e = Element::new(s::RightsManagementInformation).with(status(rmi.status));
            if let Some(templates) = &rmi.templates {
                let mut list = Element::new(rm::RightsManagementTemplates);
                for t in templates {
                    list.push(
                        Element::new(rm::RightsManagementTemplate)
                            .with(text_element(rm::TemplateID, t.id.clone()))
                            .with(text_element(rm::TemplateName, t.name.clone()))
                            .with(text_element(rm::TemplateDescription, t.description.clone())),
                    );
                }
                e.push(Element::new(s::Get).with(list));
            }
            el.push(e);
        }
        if let Some(oof) = &self.oof {
            let mut e = Element::new(s::Oof).with(status(oof.status));
            if let Some(get) = &oof.get {
                e.push(get.to_element(s::Get));
            }
            el.push(e);
        }
        if let Some(st) = self.device_password {
            el.push(Element::new(s::DevicePassword).with(status(st)));
        }
        if let Some(st) = self.device_information {
            el.push(Element::new(s::DeviceInformation).with(status(st)));
        }
        if let Some(ui) = &self.user_information {
            let mut e = Element::new(s::UserInformation).with(status(ui.status));
            if let Some(get) = &ui.get {
                e.push(Element::new(s::Get).with(user_information_element(get)));
            }
            el.push(e);
        }
        el
    }
}

fn email_addresses(el: &Element<'_>) -> Result<(Vec<String>, Option<String>), CommandError> {
    let addresses = el
        .children_with(s::SMTPAddress)
        .map(|a| text(a).map(str::to_owned))
        .collect::<Result<_, _>>()?;
    Ok((addresses, child_text(el, s::PrimarySmtpAddress)?))
}

fn user_information(get: &Element<'_>) -> Result<UserInformation, CommandError> {
    if let Some(accounts) = child(get, s::Accounts)? {
        let accounts = accounts
            .children_with(s::Account)
            .map(|a| {
                let (email_addresses, primary_smtp_address) = match child(a, s::EmailAddresses)? {
                    Some(e) => email_addresses(e)?,
                    None => (Vec::new(), None),
                };
                Ok(Account {
                    account_id: child_text(a, s::AccountId)?,
                    account_name: child_text(a, s::AccountName)?,
                    user_display_name: child_text(a, s::UserDisplayName)?,
                    send_disabled: child(a, s::SendDisabled)?.map(boolean).transpose()?,
                    email_addresses,
                    primary_smtp_address,
                })
            })
            .collect::<Result<_, CommandError>>()?;
        return Ok(UserInformation::Accounts(accounts));
    }
    let (addresses, _) = email_addresses(required(get, s::EmailAddresses)?)?;
    Ok(UserInformation::EmailAddresses(addresses))
}

fn addresses_element(addresses: &[String], primary: Option<&str>) -> Element<'static> {
    let mut el = Element::new(s::EmailAddresses);
    for a in addresses {
        el.push(text_element(s::SMTPAddress, a.clone()));
    }
    if let Some(p) = primary {
        el.push(text_element(s::PrimarySmtpAddress, p));
    }
    el
}

fn user_information_element(info: &UserInformation) -> Element<'static> {
    match info {
        UserInformation::EmailAddresses(addresses) => addresses_element(addresses, None),
        UserInformation::Accounts(accounts) => {
            let mut list = Element::new(s::Accounts);
            for a in accounts {
                let mut e = Element::new(s::Account);
                let texts = [
                    (s::AccountId, &a.account_id),
                    (s::AccountName, &a.account_name),
                    (s::UserDisplayName, &a.user_display_name),
                ];
                for (tag, value) in texts {
                    if let Some(v) = value {
                        e.push(text_element(tag, v.clone()));
                    }
                }
                if let Some(b) = a.send_disabled {
                    e.push(bool_element(s::SendDisabled, b));
                }
                e.push(addresses_element(
                    &a.email_addresses,
                    a.primary_smtp_address.as_deref(),
                ));
                list.push(e);
            }
            list
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wbxml::Limits;
    use proptest::prelude::*;

    const REQUEST: &[u8] = include_bytes!("../../../fixtures/wbxml/settings-request.wbxml");
    const RESPONSE: &[u8] = include_bytes!("../../../fixtures/wbxml/settings-response.wbxml");

    fn decode(bytes: &[u8]) -> Element<'_> {
        Element::decode(bytes, Limits::default()).unwrap()
    }

    fn dt(s: &str) -> DateTime {
        DateTime::parse(s).unwrap()
    }

    #[test]
    fn the_request_fixture_both_ways() {
        let req = Request::from_element(&decode(REQUEST)).unwrap();
        let expected = Request {
            rights_management_information: false,
            oof: Some(OofRequest::Get {
                body_type: Some(BodyType::Text),
            }),
            device_password: None,
            device_information: Some(DeviceInformation {
                model: Some("MC65".into()),
                friendly_name: Some("Chris's phone".into()),
                os: Some("Android 4.4".into()),
                user_agent: Some("EAS-Client/1.0".into()),
                ..DeviceInformation::default()
            }),
            user_information: true,
        };
        assert_eq!(req, expected);
        assert_eq!(expected.to_element().encode().unwrap(), REQUEST);
    }

    #[test]
    fn the_response_fixture_both_ways() {
        let res = Response::from_element(&decode(RESPONSE)).unwrap();
        let message = |audience, enabled, reply: Option<&str>, body_type| OofMessage {
            audience,
            enabled: Some(enabled),
            reply_message: reply.map(str::to_owned),
            body_type,
        };
        let expected = Response {
            status: Status::SUCCESS,
            rights_management_information: None,
            oof: Some(OofResponse {
                status: Status::SUCCESS,
                get: Some(Oof {
                    state: Some(OofState::GLOBAL),
                    start_time: Some(dt("2009-12-24T00:00:00.000Z")),
                    end_time: Some(dt("2010-01-04T00:00:00.000Z")),
                    messages: vec![
                        message(
                            Audience::Internal,
                            true,
                            Some("I am out of the office until January 4."),
                            Some(BodyType::Text),
                        ),
                        message(Audience::ExternalKnown, false, None, None),
                        message(Audience::ExternalUnknown, false, None, None),
                    ],
                }),
            }),
            device_password: None,
            device_information: Some(Status::SUCCESS),
            user_information: Some(UserInformationResponse {
                status: Status::SUCCESS,
                get: Some(UserInformation::Accounts(vec![Account {
                    user_display_name: Some("Chris Gray".into()),
                    email_addresses: vec!["chris@contoso.com".into()],
                    primary_smtp_address: Some("chris@contoso.com".into()),
                    ..Account::default()
                }])),
            }),
        };
        assert_eq!(res, expected);
        assert_eq!(expected.to_element().encode().unwrap(), RESPONSE);
    }

    #[test]
    fn every_property_round_trips() {
        let req = Request {
            rights_management_information: true,
            oof: Some(OofRequest::Set(Oof {
                state: Some(OofState::TIME_BASED),
                start_time: Some(dt("2024-07-01T08:00:00.000Z")),
                end_time: Some(dt("2024-07-15T17:00:00.000Z")),
                messages: vec![OofMessage {
                    audience: Audience::ExternalUnknown,
                    enabled: Some(true),
                    reply_message: Some("<p>Away</p>".into()),
                    body_type: Some(BodyType::Html),
                }],
            })),
            device_password: Some(Secret::new("1234")),
            device_information: Some(DeviceInformation {
                imei: Some("355000000000000".into()),
                os_language: Some("English".into()),
                phone_number: Some("+1".into()),
                enable_outbound_sms: Some(false),
                mobile_operator: Some("Op".into()),
                ..DeviceInformation::default()
            }),
            user_information: false,
        };
        let bytes = req.to_element().encode().unwrap();
        assert_eq!(Request::from_element(&decode(&bytes)).unwrap(), req);

        let res = Response {
            status: Status::SUCCESS,
            rights_management_information: Some(RightsManagementResponse {
                status: Status::SUCCESS,
                templates: Some(vec![RightsManagementTemplate {
                    id: "cf5cf348-a8d7-40d5-91ef-a600b88a395d".into(),
                    name: "Do Not Forward".into(),
                    description: "Recipients can read this message".into(),
                }]),
            }),
            oof: Some(OofResponse {
                status: Status::SUCCESS,
                get: None,
            }),
            device_password: Some(Status::SUCCESS),
            device_information: Some(Status(200)),
            user_information: Some(UserInformationResponse {
                status: Status::SUCCESS,
                get: Some(UserInformation::EmailAddresses(vec![
                    "a@example.com".into(),
                    "b@example.com".into(),
                ])),
            }),
        };
        let bytes = res.to_element().encode().unwrap();
        assert_eq!(Response::from_element(&decode(&bytes)).unwrap(), res);
        let bare = Response::new(Status::ACCESS_DENIED);
        assert_eq!(Response::from_element(&bare.to_element()).unwrap(), bare);
    }

    #[test]
    fn user_information_follows_the_version() {
        let accounts = vec![
            Account {
                email_addresses: vec!["a@x".into(), "b@x".into()],
                ..Account::default()
            },
            Account {
                email_addresses: vec!["c@y".into()],
                send_disabled: Some(true),
                ..Account::default()
            },
        ];
        assert_eq!(
            UserInformation::for_version(ProtocolVersion::V14_0, accounts.clone()),
            UserInformation::EmailAddresses(vec!["a@x".into(), "b@x".into(), "c@y".into()])
        );
        assert_eq!(
            UserInformation::for_version(ProtocolVersion::V16_1, accounts.clone()),
            UserInformation::Accounts(accounts)
        );
    }

    #[test]
    fn malformed_requests_say_which_element() {
        let err = |el: Element<'static>| {
            Request::from_element(&Element::new(s::Settings).with(el)).unwrap_err()
        };
        assert_eq!(
            err(Element::new(s::Oof)),
            CommandError::Missing {
                parent: s::Oof,
                missing: s::Get
            }
        );
        assert_eq!(
            err(Element::new(s::Oof)
                .with(Element::new(s::Get))
                .with(Element::new(s::Set))),
            CommandError::Conflict {
                parent: s::Oof,
                first: s::Get,
                second: s::Set
            }
        );
        assert!(matches!(
            err(Element::new(s::Oof)
                .with(Element::new(s::Get).with(Element::text(s::BodyType, "RTF")))),
            CommandError::Invalid {
                tag: s::BodyType,
                ..
            }
        ));
        let set =
            |child: Element<'static>| Element::new(s::Oof).with(Element::new(s::Set).with(child));
        assert!(matches!(
            err(set(Element::text(s::StartTime, "tomorrow"))),
            CommandError::Invalid {
                tag: s::StartTime,
                ..
            }
        ));
        assert_eq!(
            err(set(
                Element::new(s::OofMessage).with(Element::text(s::Enabled, "1"))
            )),
            CommandError::Missing {
                parent: s::OofMessage,
                missing: s::AppliesToInternal
            }
        );
        assert_eq!(
            err(set(Element::new(s::OofMessage)
                .with(Element::new(s::AppliesToInternal))
                .with(Element::new(s::AppliesToExternalKnown)))),
            CommandError::Conflict {
                parent: s::OofMessage,
                first: s::AppliesToInternal,
                second: s::AppliesToExternalKnown
            }
        );
        assert_eq!(
            err(Element::new(s::DevicePassword).with(Element::new(s::Set))),
            CommandError::Missing {
                parent: s::Set,
                missing: s::Password
            }
        );
        match err(Element::new(s::DevicePassword)
            .with(Element::new(s::Set).with(Element::text(s::Password, "p".repeat(256)))))
        {
            CommandError::Invalid { tag, value, .. } => {
                assert_eq!(tag, s::Password);
                assert!(value.is_empty(), "a password must not be quoted");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            err(Element::new(s::UserInformation)),
            CommandError::Missing {
                parent: s::UserInformation,
                missing: s::Get
            }
        );
        assert_eq!(
            err(Element::new(s::DeviceInformation)),
            CommandError::Missing {
                parent: s::DeviceInformation,
                missing: s::Set
            }
        );
        assert!(matches!(
            err(Element::new(s::DeviceInformation)
                .with(Element::new(s::Set).with(Element::text(s::EnableOutboundSMS, "yes")))),
            CommandError::Invalid { .. }
        ));
        // An empty Settings asks nothing, and is not an error.
        assert_eq!(
            Request::from_element(&Element::new(s::Settings)),
            Ok(Request::default())
        );
        let password = Request {
            device_password: Some(Secret::new("")),
            ..Request::default()
        };
        assert_eq!(Request::from_element(&password.to_element()), Ok(password));
    }

    fn settings_tag() -> impl Strategy<Value = Tag> {
        let tags: Vec<Tag> = crate::codepages::page(18)
            .unwrap()
            .tags
            .iter()
            .map(|d| d.tag)
            .chain([
                rm::RightsManagementTemplates,
                rm::RightsManagementTemplate,
                rm::TemplateID,
            ])
            .collect();
        proptest::sample::select(tags)
    }

    fn tree() -> impl Strategy<Value = Element<'static>> {
        let leaf = (
            settings_tag(),
            proptest::option::of(prop_oneof![
                Just("0".to_owned()),
                Just("1".to_owned()),
                Just("Text".to_owned()),
                Just("2009-12-24T00:00:00.000Z".to_owned()),
                "[a-z@.]{0,8}",
            ]),
        )
            .prop_map(|(tag, t)| match t {
                Some(t) => Element::text(tag, t),
                None => Element::new(tag),
            });
        leaf.prop_recursive(5, 64, 6, |inner| {
            (settings_tag(), proptest::collection::vec(inner, 0..6)).prop_map(|(tag, kids)| {
                let mut el = Element::new(tag);
                for k in kids {
                    el.push(k);
                }
                el
            })
        })
    }

    proptest! {
        #[test]
        fn any_tree_is_answered_without_panic(mut el in tree()) {
            el.tag = s::Settings;
            if let Ok(req) = Request::from_element(&el) {
                prop_assert_eq!(Request::from_element(&req.to_element()), Ok(req));
            }
            if let Ok(res) = Response::from_element(&el) {
                prop_assert_eq!(Response::from_element(&res.to_element()), Ok(res));
            }
        }
    }
}
