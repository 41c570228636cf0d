//! Number spaces the peer chooses from: status codes, policy settings with a
//! closed list of values, Autodiscover error codes.
//!
//! Each is a newtype over its integer with named constants, never a closed
//! enum: a value this crate does not know still parses, prints and goes back
//! on the wire unchanged (as rustls's `enum_builder!` does for TLS). Printed
//! forms follow [`crate::status::Status`]: `2(PROTOCOL_ERROR)`, or the bare
//! number for a value without a name.

/// Defines a number newtype with named constants.
///
/// ```text
/// number_enum! {
///     /// Doc comment of the type.
///     pub struct PolicyStatus(u8) {
///         /// Doc comment of the constant.
///         SUCCESS = 1,
///     }
/// }
/// ```
macro_rules! number_enum {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident($repr:ty) {
            $(
                $(#[$cmeta:meta])*
                $konst:ident = $value:literal,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        $vis struct $name(pub $repr);

        impl $name {
            $(
                $(#[$cmeta])*
                pub const $konst: $name = $name($value);
            )*

            /// The name of this value, if it is one the spec defines.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some(stringify!($konst)), )*
                    _ => None,
                }
            }

            pub const fn is_known(self) -> bool {
                self.name().is_some()
            }

            /// The wire form: the number in decimal.
            pub fn as_text(self) -> String {
                self.0.to_string()
            }
        }

        impl From<$repr> for $name {
            fn from(value: $repr) -> Self {
                $name(value)
            }
        }

        impl From<$name> for $repr {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;

            /// The decimal wire form; any value of the integer type parses.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse::<$repr>().map($name)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self.name() {
                    Some(name) => write!(f, "{}({name})", self.0),
                    None => write!(f, "{}", self.0),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(self, f)
            }
        }
    };
}

pub(crate) use number_enum;

#[cfg(test)]
#[allow(unreachable_pub)]
mod tests {
    number_enum! {
        /// A test space.
        pub struct Sample(u8) {
            ONE = 1,
            TWO = 2,
        }
    }

    #[test]
    fn known_and_unknown_values() {
        assert_eq!(Sample::TWO.0, 2);
        assert_eq!(Sample(1), Sample::ONE);
        assert_eq!(Sample::ONE.name(), Some("ONE"));
        assert_eq!(Sample(7).name(), None);
        assert!(!Sample(7).is_known());
        assert_eq!(format!("{:?}", Sample::TWO), "2(TWO)");
        assert_eq!(format!("{}", Sample(200)), "200");
        assert_eq!(Sample(200).as_text(), "200");
        assert_eq!("2".parse::<Sample>(), Ok(Sample::TWO));
        assert_eq!("255".parse::<Sample>(), Ok(Sample(255)));
        assert!("256".parse::<Sample>().is_err());
        assert!("x".parse::<Sample>().is_err());
        assert_eq!(u8::from(Sample::ONE), 1);
    }
}
