//! `tracker-actors`: the actor layer.
