//! `wire_enum!` (from `tracker-stdx`) for this crate's modules, and the check
//! that every enum declared with it round-trips.

pub(crate) use tracker_stdx::wire_enum;

#[cfg(test)]
mod tests {
    /// Every enum in the crate declared with `wire_enum!`: each variant's name
    /// reads back as that variant, no name is given twice, and `Display` writes it.
    #[test]
    fn every_wire_enum_in_the_crate_round_trips_every_variant() {
        macro_rules! check {
            ($($ty:ty => $to:ident, $from:ident;)+) => {$({
                let mut seen = std::collections::HashSet::new();
                for variant in <$ty>::ALL {
                    let name = variant.$to();
                    assert!(seen.insert(name), "{name:?} named twice");
                    assert_eq!(<$ty>::$from(name), Some(variant), "{name:?}");
                    assert_eq!(variant.to_string(), name);
                }
                assert!(!seen.is_empty());
            })+};
        }
        check! {
            crate::event::EventKind => wire_name, from_wire_name;
            crate::event::EventSource => wire_name, from_wire_name;
            crate::event::EdgePriority => wire_name, from_wire_name;
            crate::event::Actor => wire_name, from_wire_name;
            crate::plan::Handler => wire_name, from_wire_name;
            crate::retry::PolicyName => as_str, parse;
            crate::fidelity::Fidelity => as_str, parse;
            crate::engine::TerminalStatus => as_str, from_wire_name;
            crate::llm::error::ErrorKind => as_str, from_wire_name;
            crate::engine::Breach => kind, from_kind;
            crate::spec::GateMode => as_str, from_wire_name;
        }
    }
}
