//! The global tokens of WBXML 1.3 (section 7.1) and the bits of a tag byte.

pub(crate) const SWITCH_PAGE: u8 = 0x00;
pub(crate) const END: u8 = 0x01;
pub(crate) const ENTITY: u8 = 0x02;
pub(crate) const STR_I: u8 = 0x03;
pub(crate) const LITERAL: u8 = 0x04;
pub(crate) const EXT_I_0: u8 = 0x40;
pub(crate) const EXT_I_1: u8 = 0x41;
pub(crate) const EXT_I_2: u8 = 0x42;
pub(crate) const PI: u8 = 0x43;
pub(crate) const LITERAL_C: u8 = 0x44;
pub(crate) const EXT_T_0: u8 = 0x80;
pub(crate) const EXT_T_1: u8 = 0x81;
pub(crate) const EXT_T_2: u8 = 0x82;
pub(crate) const STR_T: u8 = 0x83;
pub(crate) const LITERAL_A: u8 = 0x84;
pub(crate) const EXT_0: u8 = 0xC0;
pub(crate) const EXT_1: u8 = 0xC1;
pub(crate) const EXT_2: u8 = 0xC2;
pub(crate) const OPAQUE: u8 = 0xC3;
pub(crate) const LITERAL_AC: u8 = 0xC4;

/// Set on a tag byte when the element has content (and so an END).
pub(crate) const HAS_CONTENT: u8 = 0x40;
/// Set on a tag byte when the element has attributes.
pub(crate) const HAS_ATTRIBUTES: u8 = 0x80;
pub(crate) const TOKEN_MASK: u8 = 0x3F;

/// The header EAS sends: WBXML 1.3, public id 1 ("unknown or missing"),
/// charset 106 (UTF-8), an empty string table (MS-ASWBXML 2.1.1).
pub(crate) const HEADER: [u8; 4] = [0x03, 0x01, 0x6A, 0x00];
pub(crate) const CHARSET_UTF8: u32 = 106;

/// The name of a global token we do not accept, for error messages.
pub(crate) fn global_name(byte: u8) -> Option<&'static str> {
    Some(match byte {
        ENTITY => "ENTITY",
        LITERAL => "LITERAL",
        EXT_I_0 => "EXT_I_0",
        EXT_I_1 => "EXT_I_1",
        EXT_I_2 => "EXT_I_2",
        PI => "PI",
        LITERAL_C => "LITERAL_C",
        EXT_T_0 => "EXT_T_0",
        EXT_T_1 => "EXT_T_1",
        EXT_T_2 => "EXT_T_2",
        STR_T => "STR_T",
        LITERAL_A => "LITERAL_A",
        EXT_0 => "EXT_0",
        EXT_1 => "EXT_1",
        EXT_2 => "EXT_2",
        LITERAL_AC => "LITERAL_AC",
        _ => return None,
    })
}
