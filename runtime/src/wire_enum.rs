//! `wire_enum!`: a closed enum declared together with the name each variant
//! has on the wire, so that the names are written once.
//!
//! ```ignore
//! wire_enum! {
//!     /// Which part of tracker wrote an event line.
//!     #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
//!     pub enum EventSource {
//!         /// The engine.
//!         Pipeline => "pipeline",
//!         /// An agent session.
//!         Agent => "agent",
//!     }
//! }
//! ```
//!
//! declares the enum as written (attributes and doc comments kept) and derives
//! from the one list:
//!
//! * `ALL` — every variant, in declaration order;
//! * `wire_name(self) -> &'static str`;
//! * `from_wire_name(&str) -> Option<Self>` — exact, case-sensitive;
//! * `Display`, which writes the wire name.
//!
//! A wire name given twice is an unreachable-pattern warning (an error under
//! `-D warnings`). The enum must be `Copy`.

/// Declares an enum and its wire names once (see the module docs).
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$variant_meta:meta])*
                $variant:ident => $wire:literal
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $(
                $(#[$variant_meta])*
                $variant,
            )+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: [$name; [$($wire),+].len()] = [$($name::$variant),+];

            /// The name written on the wire.
            pub const fn wire_name(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)+
                }
            }

            /// The variant whose wire name is `name` (exact, case-sensitive match).
            pub fn from_wire_name(name: &str) -> Option<$name> {
                match name {
                    $($wire => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.wire_name())
            }
        }
    };
}

pub(crate) use wire_enum;

#[cfg(test)]
mod tests {
    wire_enum! {
        /// A test enum.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        enum Sample {
            /// First.
            One => "one",
            Two => "two:2",
            Three => "three_3",
        }
    }

    #[test]
    fn all_lists_every_variant_in_order_and_names_round_trip() {
        assert_eq!(Sample::ALL, [Sample::One, Sample::Two, Sample::Three]);
        for variant in Sample::ALL {
            let name = variant.wire_name();
            assert_eq!(Sample::from_wire_name(name), Some(variant));
            assert_eq!(variant.to_string(), name);
        }
        assert_eq!(Sample::Two.wire_name(), "two:2");
        assert_eq!(Sample::from_wire_name("One"), None);
        assert_eq!(Sample::from_wire_name(""), None);
    }
}
