//! Provision (MS-ASPROV): the device asks for the security policy, applies
//! it, acknowledges it under a policy key, and is told to wipe itself.
//!
//! Request forms (MS-ASPROV 3.1.5.1), all `<Provision>`:
//!
//! - initial: `Policies/Policy/PolicyType`, preceded from 14.1 by
//!   `settings:DeviceInformation` ([`RequestBody::Download`]);
//! - acknowledgement: `Policies/Policy` with `PolicyType`, `PolicyKey` and
//!   the client's `Status` ([`RequestBody::Acknowledge`]);
//! - wipe acknowledgement: `RemoteWipe/Status` or, from 16.1,
//!   `AccountOnlyRemoteWipe/Status`;
//! - empty, sent after a status code asking for a wipe ([`RequestBody::Empty`]).
//!
//! Responses carry the Provision `Status`, the `Policy` with its own status,
//! a temporary or final key and (to an initial request) the
//! `EASProvisionDoc`, or a wipe directive (MS-ASPROV 3.2.5.1).

use super::settings::{self, DeviceInformation};
use super::{
    CommandError, bool_element, boolean, child, expect_root, number, required, text, text_element,
};
use crate::codepages::{provision as p, settings as s};
use crate::http::PolicyKey;
use crate::number::number_enum;
use crate::version::ProtocolVersion;
use crate::wbxml::{Element, Tag};

/// The policy type of protocol 12.0 and later (MS-ASPROV 2.2.2.43).
pub const POLICY_TYPE_WBXML: &str = "MS-EAS-Provisioning-WBXML";
/// The policy type of 2.5, whose `Data` is WAP provisioning XML as text.
pub const POLICY_TYPE_WAP_XML: &str = "MS-WAP-Provisioning-XML";

number_enum! {
    /// The `Status` child of `Provision` (MS-ASPROV 2.2.2.54.2, and the
    /// common values 3.1.5.2 lists for this command).
    pub struct Status(u8) {
        SUCCESS = 1,
        PROTOCOL_ERROR = 2,
        SERVER_ERROR = 3,
        /// The client acknowledged with partial success (2) and the
        /// server requires full compliance.
        DEVICE_NOT_FULLY_PROVISIONABLE = 139,
        /// The client sent no policy key and the server requires one.
        LEGACY_DEVICE_ON_STRICT_POLICY = 141,
        EXTERNALLY_MANAGED_DEVICES_NOT_ALLOWED = 145,
    }
}

number_enum! {
    /// The `Status` child of `Policy` in a response (MS-ASPROV 2.2.2.54.1).
    pub struct PolicyStatus(u8) {
        SUCCESS = 1,
        NO_POLICY = 2,
        UNKNOWN_POLICY_TYPE = 3,
        POLICY_DATA_CORRUPT = 4,
        WRONG_POLICY_KEY = 5,
    }
}

number_enum! {
    /// The `Status` child of `Policy` in an acknowledgement: how the client
    /// applied the policy (MS-ASPROV 2.2.2.54.1).
    pub struct AckStatus(u8) {
        SUCCESS = 1,
        /// At least the PIN was enabled.
        PARTIAL_SUCCESS = 2,
        NOT_APPLIED = 3,
        PROVISIONED_BY_THIRD_PARTY = 4,
    }
}

number_enum! {
    /// The `Status` child of `RemoteWipe` and `AccountOnlyRemoteWipe` in a
    /// wipe acknowledgement (MS-ASPROV 2.2.2.54.3).
    pub struct WipeStatus(u8) {
        SUCCESS = 1,
        FAILURE = 2,
    }
}

/// A Provision request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// From 14.1 the initial request describes the device (MS-ASPROV
    /// 2.2.2.53); the server stores it and answers with its own status.
    pub device_information: Option<DeviceInformation>,
    pub body: RequestBody,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestBody {
    /// `<Provision/>`: the client was told to wipe or reprovision and asks
    /// what to do (MS-ASPROV 3.1.5.1.1).
    Empty,
    /// The initial request for the policy of this type.
    Download {
        policy_type: String,
    },
    /// The client applied the policy the key names, with this outcome.
    Acknowledge {
        policy_type: String,
        policy_key: PolicyKey,
        status: AckStatus,
    },
    RemoteWipeAck(WipeStatus),
    /// 16.1: only the account's data was removed.
    AccountOnlyRemoteWipeAck(WipeStatus),
}

fn policy_key(el: &Element<'_>) -> Result<PolicyKey, CommandError> {
    let t = text(el)?;
    PolicyKey::parse(t)
        .map_err(|_| CommandError::invalid(el.tag, t, "a 32-bit unsigned policy key"))
}

impl Request {
    pub fn from_element(el: &Element<'_>) -> Result<Request, CommandError> {
        expect_root(el, p::Provision)?;
        let device_information = child(el, s::DeviceInformation)?
            .map(DeviceInformation::from_element)
            .transpose()?;
        let mut present = [p::Policies, p::RemoteWipe, p::AccountOnlyRemoteWipe]
            .into_iter()
            .filter_map(|tag| el.children_with(tag).next());
        let first = present.next();
        if let (Some(a), Some(b)) = (first, present.next()) {
            return Err(CommandError::Conflict {
                parent: el.tag,
                first: a.tag,
                second: b.tag,
            });
        }
        let body = match first {
            None => RequestBody::Empty,
            Some(part) => {
                // Counted once more, so that a second copy is refused.
                let part = required(el, part.tag)?;
                if part.tag == p::Policies {
                    Self::policy(required(part, p::Policy)?)?
                } else {
                    let status = number(required(part, p::Status)?, "a wipe status")?;
                    if part.tag == p::RemoteWipe {
                        RequestBody::RemoteWipeAck(status)
                    } else {
                        RequestBody::AccountOnlyRemoteWipeAck(status)
                    }
                }
            }
        };
        Ok(Request {
            device_information,
            body,
        })
    }

    fn policy(policy: &Element<'_>) -> Result<RequestBody, CommandError> {
        let policy_type = text(required(policy, p::PolicyType)?)?.to_owned();
        let key = child(policy, p::PolicyKey)?;
        let status = child(policy, p::Status)?;
        let missing = |missing| CommandError::Missing {
            parent: policy.tag,
            missing,
        };
        match (key, status) {
            (None, None) => Ok(RequestBody::Download { policy_type }),
            (Some(key), Some(status)) => Ok(RequestBody::Acknowledge {
                policy_type,
                policy_key: policy_key(key)?,
                status: number(status, "a policy acknowledgement status")?,
            }),
            (Some(_), None) => Err(missing(p::Status)),
            (None, Some(_)) => Err(missing(p::PolicyKey)),
        }
    }

    pub fn to_element(&self) -> Element<'static> {
        let mut el = Element::new(p::Provision);
        if let Some(info) = &self.device_information {
            el.push(info.to_element());
        }
        let policy = |policy_type: &str| {
            Element::new(p::Policy).with(text_element(p::PolicyType, policy_type))
        };
        let wipe = |tag, status: &WipeStatus| {
            Element::new(tag).with(text_element(p::Status, status.as_text()))
        };
        match &self.body {
            RequestBody::Empty => {}
            RequestBody::Download { policy_type } => {
                el.push(Element::new(p::Policies).with(policy(policy_type)));
            }
            RequestBody::Acknowledge {
                policy_type,
                policy_key,
                status,
            } => el.push(
                Element::new(p::Policies).with(
                    policy(policy_type)
                        .with(text_element(p::PolicyKey, policy_key.to_string()))
                        .with(text_element(p::Status, status.as_text())),
                ),
            ),
            RequestBody::RemoteWipeAck(status) => el.push(wipe(p::RemoteWipe, status)),
            RequestBody::AccountOnlyRemoteWipeAck(status) => {
                el.push(wipe(p::AccountOnlyRemoteWipe, status));
            }
        }
        el
    }
}

/// A Provision response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The answer to the request's `settings:DeviceInformation` (14.1 and
    /// later only; leave `None` for older clients).
    pub device_information: Option<settings::Status>,
    pub status: Status,
    pub policy: Option<PolicyResponse>,
    pub remote_wipe: Option<WipeDirective>,
}

/// The `Policies/Policy` of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyResponse {
    pub policy_type: String,
    pub status: PolicyStatus,
    /// Temporary in the answer to an initial request (valid only for its
    /// acknowledgement), final in the answer to an acknowledgement.
    pub policy_key: Option<PolicyKey>,
    /// The policy itself: only in the answer to an initial request.
    pub data: Option<PolicyData>,
}

/// The content of `Data` (MS-ASPROV 2.2.2.24).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyData {
    /// For `MS-EAS-Provisioning-WBXML`.
    Eas(Box<EasProvisionDoc>),
    /// For `MS-WAP-Provisioning-XML` (2.5): WAP provisioning XML as text.
    Text(String),
}

/// What the server tells the device to erase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WipeDirective {
    /// `RemoteWipe`: the whole device.
    Device,
    /// `AccountOnlyRemoteWipe` (16.1): only what came from this account.
    AccountOnly,
}

impl Response {
    pub fn from_element(el: &Element<'_>) -> Result<Response, CommandError> {
        expect_root(el, p::Provision)?;
        let device_information = child(el, s::DeviceInformation)?
            .map(|d| number(required(d, s::Status)?, "a Settings status"))
            .transpose()?;
        let status = number(required(el, p::Status)?, "a Provision status")?;
        let policy = match child(el, p::Policies)? {
            Some(policies) => Some(PolicyResponse::from_element(required(
                policies,
                p::Policy,
            )?)?),
            None => None,
        };
        let wipe = child(el, p::RemoteWipe)?;
        let account_wipe = child(el, p::AccountOnlyRemoteWipe)?;
        let remote_wipe = match (wipe, account_wipe) {
            (Some(a), Some(b)) => {
                return Err(CommandError::Conflict {
                    parent: el.tag,
                    first: a.tag,
                    second: b.tag,
                });
            }
            (Some(_), None) => Some(WipeDirective::Device),
            (None, Some(_)) => Some(WipeDirective::AccountOnly),
            (None, None) => None,
        };
        Ok(Response {
            device_information,
            status,
            policy,
            remote_wipe,
        })
    }

    /// In the element order of MS-ASPROV 3.2.5.1.1 and 3.2.5.1.2.
    pub fn to_element(&self) -> Element<'static> {
        let mut el = Element::new(p::Provision);
        if let Some(status) = self.device_information {
            el.push(
                Element::new(s::DeviceInformation).with(text_element(s::Status, status.as_text())),
            );
        }
        el.push(text_element(p::Status, self.status.as_text()));
        if let Some(policy) = &self.policy {
            el.push(Element::new(p::Policies).with(policy.to_element()));
        }
        match self.remote_wipe {
            Some(WipeDirective::Device) => el.push(Element::new(p::RemoteWipe)),
            Some(WipeDirective::AccountOnly) => el.push(Element::new(p::AccountOnlyRemoteWipe)),
            None => {}
        }
        el
    }
}

impl PolicyResponse {
    fn from_element(policy: &Element<'_>) -> Result<PolicyResponse, CommandError> {
        let data = match child(policy, p::Data)? {
            None => None,
            Some(data) => Some(match child(data, p::EASProvisionDoc)? {
                Some(doc) => PolicyData::Eas(Box::new(EasProvisionDoc::from_element(doc)?)),
                None => PolicyData::Text(text(data)?.to_owned()),
            }),
        };
        Ok(PolicyResponse {
            policy_type: text(required(policy, p::PolicyType)?)?.to_owned(),
            status: number(required(policy, p::Status)?, "a Policy status")?,
            policy_key: child(policy, p::PolicyKey)?.map(policy_key).transpose()?,
            data,
        })
    }

    fn to_element(&self) -> Element<'static> {
        let mut el = Element::new(p::Policy)
            .with(text_element(p::PolicyType, self.policy_type.clone()))
            .with(text_element(p::Status, self.status.as_text()));
        if let Some(key) = self.policy_key {
            el.push(text_element(p::PolicyKey, key.to_string()));
        }
        match &self.data {
            Some(PolicyData::Eas(doc)) => el.push(Element::new(p::Data).with(doc.to_element())),
            Some(PolicyData::Text(t)) => el.push(text_element(p::Data, t.clone())),
            None => {}
        }
        el
    }
}

/// A value of the `unsignedIntOrEmpty` and `unsignedByteOrEmpty` types of
/// MS-ASPROV 2.2.3: an empty element means "no limit set", which is not
/// the same as leaving the element out (that keeps the device's setting,
/// 3.2.5.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrEmpty<T> {
    Empty,
    Value(T),
}

number_enum! {
    /// `AllowBluetooth` (MS-ASPROV 2.2.2.2).
    pub struct BluetoothMode(u8) {
        DISABLED = 0,
        HANDS_FREE_ONLY = 1,
        ALLOWED = 2,
    }
}

number_enum! {
    /// `MaxCalendarAgeFilter` and `MaxEmailAgeFilter`: how far back the
    /// device may sync, with the values of AirSync's `FilterType`.
    /// Calendars use 0 and 4 to 7; mail 0 to 5.
    pub struct AgeFilter(u8) {
        ALL = 0,
        ONE_DAY = 1,
        THREE_DAYS = 2,
        ONE_WEEK = 3,
        TWO_WEEKS = 4,
        ONE_MONTH = 5,
        THREE_MONTHS = 6,
        SIX_MONTHS = 7,
    }
}

number_enum! {
    /// `RequireSignedSMIMEAlgorithm` (MS-ASPROV 2.2.2.50).
    pub struct SigningAlgorithm(u8) {
        SHA1 = 0,
        MD5 = 1,
    }
}

number_enum! {
    /// `RequireEncryptionSMIMEAlgorithm` (MS-ASPROV 2.2.2.48).
    pub struct EncryptionAlgorithm(u8) {
        TRIPLE_DES = 0,
        DES = 1,
        RC2_128 = 2,
        RC2_64 = 3,
        RC2_40 = 4,
    }
}

number_enum! {
    /// `AllowSMIMEEncryptionAlgorithmNegotiation` (MS-ASPROV 2.2.2.13).
    pub struct AlgorithmNegotiation(u8) {
        DO_NOT_NEGOTIATE = 0,
        STRONG_ONLY = 1,
        ANY = 2,
    }
}

/// `UnapprovedInROMApplicationList`: applications in ROM the device must
/// not run, by `ApplicationName`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplicationNames(pub Vec<String>);

/// `ApprovedApplicationList`: applications the device may run, by `Hash`
/// (the SHA-1 of the binary, as text).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplicationHashes(pub Vec<String>);

/// How one kind of setting is read and written.
trait PolicyValue: Sized {
    fn parse(el: &Element<'_>) -> Result<Self, CommandError>;
    fn write(&self, tag: Tag) -> Element<'static>;
}

impl PolicyValue for bool {
    fn parse(el: &Element<'_>) -> Result<Self, CommandError> {
        boolean(el)
    }
    fn write(&self, tag: Tag) -> Element<'static> {
        bool_element(tag, *self)
    }
}

macro_rules! numeric_policy_values {
    ($($ty:ty => $expected:literal,)*) => {$(
        impl PolicyValue for $ty {
            fn parse(el: &Element<'_>) -> Result<Self, CommandError> {
                number(el, $expected)
            }
            fn write(&self, tag: Tag) -> Element<'static> {
                text_element(tag, self.to_string())
            }
        }
    )*};
}

numeric_policy_values! {
    u8 => "an unsigned byte",
    u32 => "an unsigned 32-bit integer",
    i32 => "a 32-bit integer",
}

macro_rules! named_policy_values {
    ($($ty:ty => $expected:literal,)*) => {$(
        impl PolicyValue for $ty {
            fn parse(el: &Element<'_>) -> Result<Self, CommandError> {
                number(el, $expected)
            }
            fn write(&self, tag: Tag) -> Element<'static> {
                text_element(tag, self.as_text())
            }
        }
    )*};
}

named_policy_values! {
    BluetoothMode => "a Bluetooth mode (0 to 2)",
    AgeFilter => "an age filter (0 to 7)",
    SigningAlgorithm => "a signing algorithm (0 or 1)",
    EncryptionAlgorithm => "an encryption algorithm (0 to 4)",
    AlgorithmNegotiation => "an algorithm negotiation mode (0 to 2)",
}

impl<T: PolicyValue> PolicyValue for OrEmpty<T> {
    fn parse(el: &Element<'_>) -> Result<Self, CommandError> {
        if text(el)?.is_empty() {
            Ok(OrEmpty::Empty)
        } else {
            T::parse(el).map(OrEmpty::Value)
        }
    }
    fn write(&self, tag: Tag) -> Element<'static> {
        match self {
            OrEmpty::Empty => Element::new(tag),
            OrEmpty::Value(v) => v.write(tag),
        }
    }
}

fn list_parse(el: &Element<'_>, item: Tag) -> Result<Vec<String>, CommandError> {
    el.children_with(item)
        .map(|c| text(c).map(str::to_owned))
        .collect()
}

fn list_write(tag: Tag, item: Tag, values: &[String]) -> Element<'static> {
    let mut el = Element::new(tag);
    for v in values {
        el.push(text_element(item, v.clone()));
    }
    el
}

impl PolicyValue for ApplicationNames {
    fn parse(el: &Element<'_>) -> Result<Self, CommandError> {
        list_parse(el, p::ApplicationName).map(ApplicationNames)
    }
    fn write(&self, tag: Tag) -> Element<'static> {
        list_write(tag, p::ApplicationName, &self.0)
    }
}

impl PolicyValue for ApplicationHashes {
    fn parse(el: &Element<'_>) -> Result<Self, CommandError> {
        list_parse(el, p::Hash).map(ApplicationHashes)
    }
    fn write(&self, tag: Tag) -> Element<'static> {
        list_write(tag, p::Hash, &self.0)
    }
}

macro_rules! provision_doc {
    ($( $(#[$doc:meta])* $field:ident: $ty:ty = $tag:ident, )*) => {
        /// The policy itself (MS-ASPROV 2.2.2.28): every setting optional,
        /// and a setting left out leaves the device's own as it is.
        ///
        /// Settings are written in the order Exchange writes them, which is
        /// the order of this struct.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct EasProvisionDoc {
            $( $(#[$doc])* pub $field: Option<$ty>, )*
        }

        impl EasProvisionDoc {
            pub fn from_element(el: &Element<'_>) -> Result<EasProvisionDoc, CommandError> {
                expect_root(el, p::EASProvisionDoc)?;
                let mut doc = EasProvisionDoc::default();
                for c in el.elements() {
                    $(
                        if c.tag == p::$tag {
                            if doc.$field.is_some() {
                                return Err(CommandError::Duplicate { parent: el.tag, tag: c.tag });
                            }
                            doc.$field = Some(<$ty as PolicyValue>::parse(c)?);
                            continue;
                        }
                    )*
                }
                Ok(doc)
            }

            pub fn to_element(&self) -> Element<'static> {
                let mut el = Element::new(p::EASProvisionDoc);
                $(
                    if let Some(v) = &self.$field {
                        el.push(v.write(p::$tag));
                    }
                )*
                el
            }

            /// This policy without the settings `version` does not define
            /// (12.0 lacks everything from `AllowStorageCard` on), so an
            /// older client is not sent tags it cannot read.
            pub fn for_version(&self, version: ProtocolVersion) -> EasProvisionDoc {
                let defined = |tag: Tag| {
                    crate::codepages::tag_def(tag).is_some_and(|d| d.versions.contains(version))
                };
                let mut doc = self.clone();
                $(
                    if !defined(p::$tag) {
                        doc.$field = None;
                    }
                )*
                doc
            }
        }
    };
}

provision_doc! {
    device_password_enabled: bool = DevicePasswordEnabled,
    alphanumeric_device_password_required: bool = AlphanumericDevicePasswordRequired,
    password_recovery_enabled: bool = PasswordRecoveryEnabled,
    require_storage_card_encryption: bool = RequireStorageCardEncryption,
    attachments_enabled: bool = AttachmentsEnabled,
    /// 1 to 16; empty or 1 means no minimum.
    min_device_password_length: OrEmpty<u8> = MinDevicePasswordLength,
    /// Seconds; 9999 or more means unlimited.
    max_inactivity_time_device_lock: OrEmpty<u32> = MaxInactivityTimeDeviceLock,
    /// 4 to 16.
    max_device_password_failed_attempts: OrEmpty<u8> = MaxDevicePasswordFailedAttempts,
    /// Bytes.
    max_attachment_size: OrEmpty<u32> = MaxAttachmentSize,
    allow_simple_device_password: bool = AllowSimpleDevicePassword,
    /// Days; 0 means passwords do not expire.
    device_password_expiration: OrEmpty<u32> = DevicePasswordExpiration,
    device_password_history: u32 = DevicePasswordHistory,
    allow_storage_card: bool = AllowStorageCard,
    allow_camera: bool = AllowCamera,
    require_device_encryption: bool = RequireDeviceEncryption,
    allow_unsigned_applications: bool = AllowUnsignedApplications,
    allow_unsigned_installation_packages: bool = AllowUnsignedInstallationPackages,
    /// 1 to 4 character groups.
    min_device_password_complex_characters: u8 = MinDevicePasswordComplexCharacters,
    allow_wifi: bool = AllowWiFi,
    allow_text_messaging: bool = AllowTextMessaging,
    allow_pop_imap_email: bool = AllowPOPIMAPEmail,
    allow_bluetooth: BluetoothMode = AllowBluetooth,
    allow_irda: bool = AllowIrDA,
    require_manual_sync_when_roaming: bool = RequireManualSyncWhenRoaming,
    allow_desktop_sync: bool = AllowDesktopSync,
    max_calendar_age_filter: AgeFilter = MaxCalendarAgeFilter,
    allow_html_email: bool = AllowHTMLEmail,
    max_email_age_filter: AgeFilter = MaxEmailAgeFilter,
    /// Kilobytes; -1 means no truncation, 0 headers only.
    max_email_body_truncation_size: i32 = MaxEmailBodyTruncationSize,
    /// Kilobytes; -1 means no truncation, 0 headers only.
    max_email_html_body_truncation_size: i32 = MaxEmailHTMLBodyTruncationSize,
    require_signed_smime_messages: bool = RequireSignedSMIMEMessages,
    require_encrypted_smime_messages: bool = RequireEncryptedSMIMEMessages,
    require_signed_smime_algorithm: SigningAlgorithm = RequireSignedSMIMEAlgorithm,
    require_encryption_smime_algorithm: EncryptionAlgorithm = RequireEncryptionSMIMEAlgorithm,
    allow_smime_encryption_algorithm_negotiation: AlgorithmNegotiation =
        AllowSMIMEEncryptionAlgorithmNegotiation,
    allow_smime_soft_certs: bool = AllowSMIMESoftCerts,
    allow_browser: bool = AllowBrowser,
    allow_consumer_email: bool = AllowConsumerEmail,
    allow_remote_desktop: bool = AllowRemoteDesktop,
    allow_internet_sharing: bool = AllowInternetSharing,
    unapproved_in_rom_application_list: ApplicationNames = UnapprovedInROMApplicationList,
    approved_application_list: ApplicationHashes = ApprovedApplicationList,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wbxml::Limits;
    use proptest::prelude::*;

    const REQUEST: &[u8] = include_bytes!("../../../fixtures/wbxml/provision-request.wbxml");
    const RESPONSE: &[u8] = include_bytes!("../../../fixtures/wbxml/provision-response.wbxml");

    fn decode(bytes: &[u8]) -> Element<'_> {
        Element::decode(bytes, Limits::default()).unwrap()
    }

    #[test]
    fn the_initial_request_fixture() {
        let req = Request::from_element(&decode(REQUEST)).unwrap();
        assert_eq!(
            req.body,
            RequestBody::Download {
                policy_type: POLICY_TYPE_WBXML.into()
            }
        );
        let info = req.device_information.as_ref().unwrap();
        assert_eq!(info.model.as_deref(), Some("MC65"));
        assert_eq!(info.imei.as_deref(), Some("355000000000000"));
        assert_eq!(info.friendly_name.as_deref(), Some("Chris's phone"));
        assert_eq!(info.os.as_deref(), Some("Android 4.4"));
        assert_eq!(info.os_language.as_deref(), Some("English"));
        assert_eq!(info.phone_number.as_deref(), Some("+14255550100"));
        assert_eq!(info.mobile_operator.as_deref(), Some("Contoso Mobile"));
        assert_eq!(info.user_agent.as_deref(), Some("EAS-Client/1.0"));
        assert_eq!(info.enable_outbound_sms, None);
        // The fixture writes MobileOperator before UserAgent; ours writes
        // the schema order, so compare documents, not bytes.
        assert_eq!(
            Request::from_element(&req.to_element()).unwrap(),
            req,
            "round trip"
        );
    }

    #[test]
    fn the_initial_response_fixture_both_ways() {
        let res = Response::from_element(&decode(RESPONSE)).unwrap();
        assert_eq!(res.device_information, Some(settings::Status::SUCCESS));
        assert_eq!(res.status, Status::SUCCESS);
        assert_eq!(res.remote_wipe, None);
        let policy = res.policy.as_ref().unwrap();
        assert_eq!(policy.policy_type, POLICY_TYPE_WBXML);
        assert_eq!(policy.status, PolicyStatus::SUCCESS);
        assert_eq!(policy.policy_key, Some(PolicyKey(1_307_199_584)));
        let Some(PolicyData::Eas(doc)) = &policy.data else {
            panic!("no EASProvisionDoc: {:?}", policy.data);
        };
        let expected = EasProvisionDoc {
            device_password_enabled: Some(false),
            alphanumeric_device_password_required: Some(false),
            password_recovery_enabled: Some(false),
            require_storage_card_encryption: Some(false),
            attachments_enabled: Some(true),
            min_device_password_length: Some(OrEmpty::Value(4)),
            max_inactivity_time_device_lock: Some(OrEmpty::Value(900)),
            max_device_password_failed_attempts: Some(OrEmpty::Value(8)),
            max_attachment_size: Some(OrEmpty::Empty),
            allow_simple_device_password: Some(true),
            device_password_expiration: Some(OrEmpty::Empty),
            device_password_history: Some(0),
            allow_storage_card: Some(true),
            allow_camera: Some(true),
            require_device_encryption: Some(false),
            allow_unsigned_applications: Some(true),
            allow_unsigned_installation_packages: Some(true),
            min_device_password_complex_characters: Some(3),
            allow_wifi: Some(true),
            allow_text_messaging: Some(true),
            allow_pop_imap_email: Some(true),
            allow_bluetooth: Some(BluetoothMode::ALLOWED),
            allow_irda: Some(true),
            require_manual_sync_when_roaming: Some(false),
            allow_desktop_sync: Some(true),
            max_calendar_age_filter: Some(AgeFilter::ALL),
            allow_html_email: Some(true),
            max_email_age_filter: Some(AgeFilter::ALL),
            max_email_body_truncation_size: Some(-1),
            max_email_html_body_truncation_size: Some(-1),
            require_signed_smime_messages: Some(false),
            require_encrypted_smime_messages: Some(false),
            require_signed_smime_algorithm: Some(SigningAlgorithm::SHA1),
            require_encryption_smime_algorithm: Some(EncryptionAlgorithm::TRIPLE_DES),
            allow_smime_encryption_algorithm_negotiation: Some(AlgorithmNegotiation::ANY),
            allow_smime_soft_certs: Some(true),
            allow_browser: Some(true),
            allow_consumer_email: Some(true),
            allow_remote_desktop: Some(true),
            allow_internet_sharing: Some(true),
            unapproved_in_rom_application_list: Some(ApplicationNames(vec![])),
            approved_application_list: Some(ApplicationHashes(vec![])),
        };
        assert_eq!(**doc, expected);
        // Built from typed values, the response is the fixture, byte for byte.
        let built = Response {
            device_information: Some(settings::Status::SUCCESS),
            status: Status::SUCCESS,
            policy: Some(PolicyResponse {
                policy_type: POLICY_TYPE_WBXML.into(),
                status: PolicyStatus::SUCCESS,
                policy_key: Some(PolicyKey(1_307_199_584)),
                data: Some(PolicyData::Eas(Box::new(expected))),
            }),
            remote_wipe: None,
        };
        assert_eq!(built, res);
        assert_eq!(built.to_element().encode().unwrap(), RESPONSE);
    }

    #[test]
    fn acknowledgements_and_wipes() {
        // An acknowledgement as MS-ASPROV 3.1.5.1.2.1 lays it out.
        let ack = Element::new(p::Provision).with(
            Element::new(p::Policies).with(
                Element::new(p::Policy)
                    .with(Element::text(p::PolicyType, POLICY_TYPE_WBXML))
                    .with(Element::text(p::PolicyKey, "1307199584"))
                    .with(Element::text(p::Status, "1")),
            ),
        );
        let req = Request::from_element(&ack).unwrap();
        assert_eq!(
            req.body,
            RequestBody::Acknowledge {
                policy_type: POLICY_TYPE_WBXML.into(),
                policy_key: PolicyKey(1_307_199_584),
                status: AckStatus::SUCCESS,
            }
        );
        assert_eq!(req.to_element(), ack);

        let wipe = Element::new(p::Provision)
            .with(Element::new(p::RemoteWipe).with(Element::text(p::Status, "1")));
        let req = Request::from_element(&wipe).unwrap();
        assert_eq!(req.body, RequestBody::RemoteWipeAck(WipeStatus::SUCCESS));
        assert_eq!(req.to_element(), wipe);

        let account = Element::new(p::Provision)
            .with(Element::new(p::AccountOnlyRemoteWipe).with(Element::text(p::Status, "2")));
        let req = Request::from_element(&account).unwrap();
        assert_eq!(
            req.body,
            RequestBody::AccountOnlyRemoteWipeAck(WipeStatus::FAILURE)
        );
        assert_eq!(req.to_element(), account);

        let empty = Element::new(p::Provision);
        let req = Request::from_element(&empty).unwrap();
        assert_eq!(req.body, RequestBody::Empty);
        assert_eq!(req.to_element(), empty);

        // The answer to an empty request when a wipe is pending
        // (MS-ASPROV 3.2.5.1.1), and to an acknowledgement (3.2.5.1.2.1).
        let res = Response {
            device_information: None,
            status: Status::SUCCESS,
            policy: None,
            remote_wipe: Some(WipeDirective::AccountOnly),
        };
        let el = res.to_element();
        assert_eq!(
            el,
            Element::new(p::Provision)
                .with(Element::text(p::Status, "1"))
                .with(Element::new(p::AccountOnlyRemoteWipe))
        );
        assert_eq!(Response::from_element(&el).unwrap(), res);
        let res = Response {
            device_information: None,
            status: Status::SUCCESS,
            policy: Some(PolicyResponse {
                policy_type: POLICY_TYPE_WBXML.into(),
                status: PolicyStatus::SUCCESS,
                policy_key: Some(PolicyKey(42)),
                data: None,
            }),
            remote_wipe: None,
        };
        assert_eq!(Response::from_element(&res.to_element()).unwrap(), res);
    }

    #[test]
    fn malformed_requests_say_which_element() {
        let policy = |children: Vec<Element<'static>>| {
            let mut pol = Element::new(p::Policy);
            for c in children {
                pol.push(c);
            }
            Element::new(p::Provision).with(Element::new(p::Policies).with(pol))
        };
        let err = |el: Element<'_>| Request::from_element(&el).unwrap_err();
        assert_eq!(
            err(policy(vec![])),
            CommandError::Missing {
                parent: p::Policy,
                missing: p::PolicyType
            }
        );
        assert_eq!(
            err(policy(vec![
                Element::text(p::PolicyType, POLICY_TYPE_WBXML),
                Element::text(p::PolicyKey, "5"),
            ])),
            CommandError::Missing {
                parent: p::Policy,
                missing: p::Status
            }
        );
        assert_eq!(
            err(policy(vec![
                Element::text(p::PolicyType, POLICY_TYPE_WBXML),
                Element::text(p::Status, "1"),
            ])),
            CommandError::Missing {
                parent: p::Policy,
                missing: p::PolicyKey
            }
        );
        assert!(matches!(
            err(policy(vec![
                Element::text(p::PolicyType, POLICY_TYPE_WBXML),
                Element::text(p::PolicyKey, "-5"),
                Element::text(p::Status, "1"),
            ])),
            CommandError::Invalid {
                tag: p::PolicyKey,
                ..
            }
        ));
        assert!(matches!(
            err(policy(vec![
                Element::text(p::PolicyType, POLICY_TYPE_WBXML),
                Element::text(p::PolicyKey, "5"),
                Element::text(p::Status, "yes"),
            ])),
            CommandError::Invalid { tag: p::Status, .. }
        ));
        assert_eq!(
            err(Element::new(p::Provision).with(Element::new(p::Policies))),
            CommandError::Missing {
                parent: p::Policies,
                missing: p::Policy
            }
        );
        assert_eq!(
            err(Element::new(p::Provision)
                .with(Element::new(p::Policies))
                .with(Element::new(p::RemoteWipe))),
            CommandError::Conflict {
                parent: p::Provision,
                first: p::Policies,
                second: p::RemoteWipe
            }
        );
        assert_eq!(
            err(Element::new(p::Provision)
                .with(Element::new(p::RemoteWipe))
                .with(Element::new(p::RemoteWipe))),
            CommandError::Duplicate {
                parent: p::Provision,
                tag: p::RemoteWipe
            }
        );
        assert_eq!(
            err(Element::new(p::Provision).with(Element::new(p::RemoteWipe))),
            CommandError::Missing {
                parent: p::RemoteWipe,
                missing: p::Status
            }
        );
        assert_eq!(
            err(Element::new(p::Policy)),
            CommandError::WrongRoot {
                expected: p::Provision,
                found: p::Policy
            }
        );
    }

    #[test]
    fn a_policy_for_an_older_client_drops_newer_settings() {
        let doc = EasProvisionDoc {
            device_password_enabled: Some(true),
            allow_camera: Some(false),
            require_signed_smime_messages: Some(true),
            ..EasProvisionDoc::default()
        };
        let v12 = doc.for_version(ProtocolVersion::V12_0);
        assert_eq!(v12.device_password_enabled, Some(true));
        assert_eq!(v12.allow_camera, None);
        assert_eq!(v12.require_signed_smime_messages, None);
        assert_eq!(doc.for_version(ProtocolVersion::V12_1), doc);
        assert_eq!(
            EasProvisionDoc::default().for_version(ProtocolVersion::V2_5),
            EasProvisionDoc::default()
        );
    }

    #[test]
    fn lists_and_unknown_values_survive() {
        let doc = EasProvisionDoc {
            unapproved_in_rom_application_list: Some(ApplicationNames(vec![
                "Solitaire".into(),
                "Camera".into(),
            ])),
            approved_application_list: Some(ApplicationHashes(vec!["2C4C6B6A1F0E0D6B1E0E".into()])),
            allow_bluetooth: Some(BluetoothMode(9)),
            max_email_age_filter: Some(AgeFilter(200)),
            ..EasProvisionDoc::default()
        };
        let el = doc.to_element();
        let bytes = el.encode().unwrap();
        let back = EasProvisionDoc::from_element(&decode(&bytes)).unwrap();
        assert_eq!(back, doc);
        let dup = Element::new(p::EASProvisionDoc)
            .with(Element::text(p::AllowCamera, "1"))
            .with(Element::text(p::AllowCamera, "0"));
        assert_eq!(
            EasProvisionDoc::from_element(&dup),
            Err(CommandError::Duplicate {
                parent: p::EASProvisionDoc,
                tag: p::AllowCamera
            })
        );
        let bad = Element::new(p::EASProvisionDoc).with(Element::text(p::MaxAttachmentSize, "-1"));
        assert!(EasProvisionDoc::from_element(&bad).is_err());
    }

    fn provision_tag() -> impl Strategy<Value = Tag> {
        let tags: Vec<Tag> = crate::codepages::page(14)
            .unwrap()
            .tags
            .iter()
            .map(|d| d.tag)
            .chain([s::DeviceInformation, s::Set, s::Model, s::Status])
            .collect();
        proptest::sample::select(tags)
    }

    fn tree() -> impl Strategy<Value = Element<'static>> {
        let leaf =
            (provision_tag(), proptest::option::of("[0-9a-zA-Z -]{0,12}")).prop_map(|(tag, t)| {
                match t {
                    Some(t) => Element::text(tag, t),
                    None => Element::new(tag),
                }
            });
        leaf.prop_recursive(5, 64, 6, |inner| {
            (provision_tag(), proptest::collection::vec(inner, 0..6)).prop_map(|(tag, kids)| {
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
            let _ = Request::from_element(&el);
            let _ = Response::from_element(&el);
            el.tag = p::Provision;
            if let Ok(req) = Request::from_element(&el) {
                prop_assert_eq!(Request::from_element(&req.to_element()), Ok(req));
            }
            if let Ok(res) = Response::from_element(&el) {
                prop_assert_eq!(Response::from_element(&res.to_element()), Ok(res));
            }
        }
    }
}
