//! The security policy (MS-ASPROV) as configuration, and the gate every
//! request but Provision passes: a device must hold the current policy key.

use eas_proto::ProtocolVersion;
use eas_proto::command::provision::{
    AgeFilter, AlgorithmNegotiation, ApplicationHashes, ApplicationNames, BluetoothMode,
    EasProvisionDoc, EncryptionAlgorithm, OrEmpty, SigningAlgorithm,
};
use eas_proto::http::PolicyKey;
use eas_proto::status::Status;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::state::AppState;
use crate::store::Device;

/// Every EASProvisionDoc setting (MS-ASPROV 2.2.2.27), with the values of
/// Exchange's Default mobile device mailbox policy. Limits written as
/// `None` are sent as empty elements: no limit.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    pub device_password_enabled: bool,
    pub alphanumeric_device_password_required: bool,
    pub password_recovery_enabled: bool,
    pub require_storage_card_encryption: bool,
    pub attachments_enabled: bool,
    pub min_device_password_length: Option<u8>,
    pub max_inactivity_time_device_lock: Option<u32>,
    pub max_device_password_failed_attempts: Option<u8>,
    pub max_attachment_size: Option<u32>,
    pub allow_simple_device_password: bool,
    pub device_password_expiration: Option<u32>,
    pub device_password_history: u32,
    pub allow_storage_card: bool,
    pub allow_camera: bool,
    pub require_device_encryption: bool,
    pub allow_unsigned_applications: bool,
    pub allow_unsigned_installation_packages: bool,
    pub min_device_password_complex_characters: u8,
    pub allow_wifi: bool,
    pub allow_text_messaging: bool,
    pub allow_pop_imap_email: bool,
    pub allow_bluetooth: Bluetooth,
    pub allow_irda: bool,
    pub require_manual_sync_when_roaming: bool,
    pub allow_desktop_sync: bool,
    pub max_calendar_age_filter: Age,
    pub allow_html_email: bool,
    pub max_email_age_filter: Age,
    /// Kilobytes; -1 for no truncation.
    pub max_email_body_truncation_size: i32,
    /// Kilobytes; -1 for no truncation.
    pub max_email_html_body_truncation_size: i32,
    pub require_signed_smime_messages: bool,
    pub require_encrypted_smime_messages: bool,
    pub require_signed_smime_algorithm: Signing,
    pub require_encryption_smime_algorithm: Encryption,
    pub allow_smime_encryption_algorithm_negotiation: Negotiation,
    pub allow_smime_soft_certs: bool,
    pub allow_browser: bool,
    pub allow_consumer_email: bool,
    pub allow_remote_desktop: bool,
    pub allow_internet_sharing: bool,
    pub unapproved_in_rom_application_list: Vec<String>,
    pub approved_application_list: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bluetooth {
    Disabled,
    HandsFreeOnly,
    Allowed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Age {
    All,
    OneDay,
    ThreeDays,
    OneWeek,
    TwoWeeks,
    OneMonth,
    ThreeMonths,
    SixMonths,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Signing {
    Sha1,
    Md5,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encryption {
    TripleDes,
    Des,
    #[serde(rename = "rc2-128")]
    Rc2_128,
    #[serde(rename = "rc2-64")]
    Rc2_64,
    #[serde(rename = "rc2-40")]
    Rc2_40,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Negotiation {
    None,
    StrongOnly,
    Any,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            device_password_enabled: false,
            alphanumeric_device_password_required: false,
            password_recovery_enabled: false,
            require_storage_card_encryption: false,
            attachments_enabled: true,
            min_device_password_length: None,
            max_inactivity_time_device_lock: None,
            max_device_password_failed_attempts: None,
            max_attachment_size: None,
            allow_simple_device_password: true,
            device_password_expiration: None,
            device_password_history: 0,
            allow_storage_card: true,
            allow_camera: true,
            require_device_encryption: false,
            allow_unsigned_applications: true,
            allow_unsigned_installation_packages: true,
            min_device_password_complex_characters: 1,
            allow_wifi: true,
            allow_text_messaging: true,
            allow_pop_imap_email: true,
            allow_bluetooth: Bluetooth::Allowed,
            allow_irda: true,
            require_manual_sync_when_roaming: false,
            allow_desktop_sync: true,
            max_calendar_age_filter: Age::All,
            allow_html_email: true,
            max_email_age_filter: Age::All,
            max_email_body_truncation_size: -1,
            max_email_html_body_truncation_size: -1,
            require_signed_smime_messages: false,
            require_encrypted_smime_messages: false,
            require_signed_smime_algorithm: Signing::Sha1,
            require_encryption_smime_algorithm: Encryption::TripleDes,
            allow_smime_encryption_algorithm_negotiation: Negotiation::Any,
            allow_smime_soft_certs: true,
            allow_browser: true,
            allow_consumer_email: true,
            allow_remote_desktop: true,
            allow_internet_sharing: true,
            unapproved_in_rom_application_list: Vec::new(),
            approved_application_list: Vec::new(),
        }
    }
}

fn or_empty<T>(v: Option<T>) -> Option<OrEmpty<T>> {
    Some(v.map_or(OrEmpty::Empty, OrEmpty::Value))
}

impl PolicyConfig {
    /// The policy document, with every setting given.
    pub fn document(&self) -> EasProvisionDoc {
        EasProvisionDoc {
            device_password_enabled: Some(self.device_password_enabled),
            alphanumeric_device_password_required: Some(self.alphanumeric_device_password_required),
            password_recovery_enabled: Some(self.password_recovery_enabled),
            require_storage_card_encryption: Some(self.require_storage_card_encryption),
            attachments_enabled: Some(self.attachments_enabled),
            min_device_password_length: or_empty(self.min_device_password_length),
            max_inactivity_time_device_lock: or_empty(self.max_inactivity_time_device_lock),
            max_device_password_failed_attempts: or_empty(self.max_device_password_failed_attempts),
            max_attachment_size: or_empty(self.max_attachment_size),
            allow_simple_device_password: Some(self.allow_simple_device_password),
            device_password_expiration: or_empty(self.device_password_expiration),
            device_password_history: Some(self.device_password_history),
            allow_storage_card: Some(self.allow_storage_card),
            allow_camera: Some(self.allow_camera),
            require_device_encryption: Some(self.require_device_encryption),
            allow_unsigned_applications: Some(self.allow_unsigned_applications),
            allow_unsigned_installation_packages: Some(self.allow_unsigned_installation_packages),
            min_device_password_complex_characters: Some(
                self.min_device_password_complex_characters,
            ),
            allow_wifi: Some(self.allow_wifi),
            allow_text_messaging: Some(self.allow_text_messaging),
            allow_pop_imap_email: Some(self.allow_pop_imap_email),
            allow_bluetooth: Some(match self.allow_bluetooth {
                Bluetooth::Disabled => BluetoothMode::DISABLED,
                Bluetooth::HandsFreeOnly => BluetoothMode::HANDS_FREE_ONLY,
                Bluetooth::Allowed => BluetoothMode::ALLOWED,
            }),
            allow_irda: Some(self.allow_irda),
            require_manual_sync_when_roaming: Some(self.require_manual_sync_when_roaming),
            allow_desktop_sync: Some(self.allow_desktop_sync),
            max_calendar_age_filter: Some(age(self.max_calendar_age_filter)),
            allow_html_email: Some(self.allow_html_email),
            max_email_age_filter: Some(age(self.max_email_age_filter)),
            max_email_body_truncation_size: Some(self.max_email_body_truncation_size),
            max_email_html_body_truncation_size: Some(self.max_email_html_body_truncation_size),
            require_signed_smime_messages: Some(self.require_signed_smime_messages),
            require_encrypted_smime_messages: Some(self.require_encrypted_smime_messages),
            require_signed_smime_algorithm: Some(match self.require_signed_smime_algorithm {
                Signing::Sha1 => SigningAlgorithm::SHA1,
                Signing::Md5 => SigningAlgorithm::MD5,
            }),
            require_encryption_smime_algorithm: Some(
                match self.require_encryption_smime_algorithm {
                    Encryption::TripleDes => EncryptionAlgorithm::TRIPLE_DES,
                    Encryption::Des => EncryptionAlgorithm::DES,
                    Encryption::Rc2_128 => EncryptionAlgorithm::RC2_128,
                    Encryption::Rc2_64 => EncryptionAlgorithm::RC2_64,
                    Encryption::Rc2_40 => EncryptionAlgorithm::RC2_40,
                },
            ),
            allow_smime_encryption_algorithm_negotiation: Some(
                match self.allow_smime_encryption_algorithm_negotiation {
                    Negotiation::None => AlgorithmNegotiation::DO_NOT_NEGOTIATE,
                    Negotiation::StrongOnly => AlgorithmNegotiation::STRONG_ONLY,
                    Negotiation::Any => AlgorithmNegotiation::ANY,
                },
            ),
            allow_smime_soft_certs: Some(self.allow_smime_soft_certs),
            allow_browser: Some(self.allow_browser),
            allow_consumer_email: Some(self.allow_consumer_email),
            allow_remote_desktop: Some(self.allow_remote_desktop),
            allow_internet_sharing: Some(self.allow_internet_sharing),
            unapproved_in_rom_application_list: Some(ApplicationNames(
                self.unapproved_in_rom_application_list.clone(),
            )),
            approved_application_list: Some(ApplicationHashes(
                self.approved_application_list.clone(),
            )),
        }
    }

    /// A fingerprint of the policy as a device of this version receives it:
    /// when the administrator changes the policy, every device provisions
    /// again.
    pub fn fingerprint(&self, version: ProtocolVersion) -> String {
        let bytes = self
            .document()
            .for_version(version)
            .to_element()
            .encode()
            .unwrap_or_default();
        Sha256::digest(&bytes)
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

fn age(a: Age) -> AgeFilter {
    match a {
        Age::All => AgeFilter::ALL,
        Age::OneDay => AgeFilter::ONE_DAY,
        Age::ThreeDays => AgeFilter::THREE_DAYS,
        Age::OneWeek => AgeFilter::ONE_WEEK,
        Age::TwoWeeks => AgeFilter::TWO_WEEKS,
        Age::OneMonth => AgeFilter::ONE_MONTH,
        Age::ThreeMonths => AgeFilter::THREE_MONTHS,
        Age::SixMonths => AgeFilter::SIX_MONTHS,
    }
}

/// Why a request was stopped at the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The device never completed provisioning, or the request carried
    /// no key.
    NotProvisioned,
    /// The request carried a key that is not the device's.
    WrongKey,
    /// The policy changed since the device accepted it.
    PolicyChanged,
    /// A remote wipe waits for the device, or was carried out.
    WipeRequested,
}

impl Refusal {
    /// The Status 14.0 and later clients get in the command's response
    /// (MS-ASPROV 3.2.5.1.2); 12.x clients get HTTP 449 for all of them.
    pub fn status(self) -> Status {
        match self {
            Refusal::NotProvisioned => Status::DEVICE_NOT_PROVISIONED,
            Refusal::WrongKey => Status::INVALID_POLICY_KEY,
            Refusal::PolicyChanged => Status::POLICY_REFRESH,
            Refusal::WipeRequested => Status::REMOTE_WIPE_REQUESTED,
        }
    }

    pub fn note(self) -> String {
        match self {
            Refusal::NotProvisioned => {
                "policy gate: the device has not provisioned, or sent no policy key".into()
            }
            Refusal::WrongKey => "policy gate: the request's policy key is not the device's".into(),
            Refusal::PolicyChanged => {
                "policy gate: the policy changed since the device accepted it".into()
            }
            Refusal::WipeRequested => {
                "policy gate: the device is to be wiped (until `device allow`)".into()
            }
        }
    }
}

/// Whether a request other than Provision may pass.
///
/// A wipe stops every request, enforcement or not: the device must come
/// and get it. It keeps stopping them after the device acknowledged it,
/// and Provision hands the wipe out again, as Exchange does with a wiped
/// partnership that nobody removed: the acknowledgement came from a
/// device that was about to erase itself, so whatever asks next with its
/// id and credentials (the phone set up again, or a copy of it) gets
/// nothing of the mailbox until an administrator allows the device again
/// (`device allow`, which withdraws the wipe).
pub fn gate(state: &AppState, device: &Device, key: Option<PolicyKey>) -> Option<Refusal> {
    if device.wipe.is_some() {
        return Some(Refusal::WipeRequested);
    }
    if !state.config.provisioning.enforce {
        return None;
    }
    let Some(device_key) = device.policy.key else {
        return Some(Refusal::NotProvisioned);
    };
    let version = device
        .protocol_version
        .parse()
        .unwrap_or(ProtocolVersion::V16_1);
    if device.policy.policy_hash.as_deref() != Some(state.policy_fingerprint(version)) {
        return Some(Refusal::PolicyChanged);
    }
    match key {
        Some(k) if k.0 == device_key => None,
        // No key, or 0 ("none"): the client holds no policy and must
        // provision (142), as opposed to holding a key that is not current
        // (144).
        None | Some(PolicyKey::NONE) => Some(Refusal::NotProvisioned),
        Some(_) => Some(Refusal::WrongKey),
    }
}
