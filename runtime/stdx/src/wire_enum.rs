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
//! A type whose methods already have other names keeps them by starting with
//! `names: as_str, parse;` (the two method names, in that order).
//!
//! A wire name given twice is an unreachable-pattern warning (an error under
//! `-D warnings`). The enum must be `Copy`.

/// Declares an enum and its wire names once (see the module docs).
#[macro_export]
macro_rules! wire_enum {
    (
        names: $to_wire:ident, $from_wire:ident;
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
            pub const fn $to_wire(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)+
                }
            }

            /// The variant whose wire name is `name` (exact, case-sensitive match).
            pub fn $from_wire(name: &str) -> Option<$name> {
                match name {
                    $($wire => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.$to_wire())
            }
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident { $($body:tt)* }
    ) => {
        wire_enum! {
            names: wire_name, from_wire_name;
            $(#[$meta])*
            $vis enum $name { $($body)* }
        }
    };
}

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

    wire_enum! {
        names: as_str, parse;
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        enum Renamed {
            A => "a",
            B => "b",
        }
    }

    #[test]
    fn method_names_can_be_chosen() {
        for variant in Renamed::ALL {
            assert_eq!(Renamed::parse(variant.as_str()), Some(variant));
            assert_eq!(variant.to_string(), variant.as_str());
        }
        assert_eq!(Renamed::parse("c"), None);
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
