//! The machinery behind the service registry (the list itself is `services!` in `model/mod.rs`).
//!
//! From that one list come: the `State` struct (one section per service), `SERVICES` (the
//! sections a snapshot must hold), `REGISTRY` (name, recorder key and reach of each service),
//! and for every part (`model::kms::Kms`, ...) an implementation of [`Part`]: its collections
//! with their resource type and stack-scoping rule, merging across regions, and stack scoping.
//! `collect` builds its per-region collection from the same list (`collect::collect_region`).
//!
//! What the compiler checks: a part field missing from the list (the generated code destructures
//! every part without `..`), a `Collection` listed among the `also` fields or a non-collection
//! listed as a collection (only `Collection<T: Resource>` is an [`AnyCollection`], only sets
//! and maps are [`Extra`]), an unknown scoping rule, and a service without a collector module.
//! The tests below check the rest on a State with an item in every collection.

use super::{Collection, CollectionFailure, Meta, Resource};
use std::collections::{BTreeMap, BTreeSet};

/// Where a service is collected: in every scanned region, or once (with the first region).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    Regional,
    Global,
}

impl Reach {
    /// Whether a region's collection reads this service (`first`: the first scanned region).
    pub fn collected_in(self, first: bool) -> bool {
        match self {
            Reach::Regional => true,
            Reach::Global => first,
        }
    }
}

/// One service of the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceEntry {
    /// The section in the State and in snapshots (`kms`, `secrets`, ...).
    pub name: &'static str,
    /// The service name API calls, timings and errors are recorded under (`secretsmanager`).
    pub recorder: &'static str,
    pub reach: Reach,
}

/// How `scan --stack` scopes a collection of a snapshot taken account-wide
/// ([`super::State::retain_stack`]); the collectors apply the same rules while collecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scoping {
    /// Kept when tagged for the stack, untagged, or with unreadable tags (an audited resource
    /// too many rather than a skipped one); dropped when tagged for another stack.
    ByTag,
    /// Kept only when tagged for the stack (or with unreadable tags); untagged ones belong to
    /// the account, not to a stack (IAM users, trails, snapshots).
    Tagged,
    /// Account-level settings and per-region records of the account (the password policy,
    /// GuardDuty in a region): judged in account-wide scans only, never part of a stack's
    /// scope (the reason says what they are).
    Account(&'static str),
    /// Kept as part of in-scope resources whatever its tags (the reason says of which).
    PartOf(&'static str),
    /// Deliberately kept whatever its tags (the reason says why).
    Kept(&'static str),
}

/// One `Collection` field of a part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollectionEntry {
    pub field: &'static str,
    /// The `Meta::resource_type` of its items and the key of its count in the statistics.
    pub resource_type: &'static str,
    pub scoping: Scoping,
    /// The field of the part that remembers, by ARN, what scoping left out (`out_of_scope`).
    pub remembered_in: Option<&'static str>,
}

/// A `Collection<T>` whatever its `T`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is listed as a collection in `model::services!` but is not a `Collection` of `Resource`s",
    note = "fields that are not collections go in the entry's `also {{ … }}`"
)]
pub trait AnyCollection {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn failures(&self) -> &[CollectionFailure];
    fn metas(&self) -> Vec<&Meta>;
    /// Apply `scoping` for `stack`; the ARNs of the items it dropped.
    fn retain_stack(&mut self, scoping: Scoping, stack: &str) -> Vec<String>;
}

impl<T: Resource> AnyCollection for Collection<T> {
    fn len(&self) -> usize {
        self.items.len()
    }

    fn failures(&self) -> &[CollectionFailure] {
        &self.failures
    }

    fn metas(&self) -> Vec<&Meta> {
        self.items.values().map(Resource::meta).collect()
    }

    fn retain_stack(&mut self, scoping: Scoping, stack: &str) -> Vec<String> {
        match scoping {
            Scoping::ByTag => {
                let dropped: Vec<String> = self.iter().filter(|r| !tagged_for(r.meta(), stack)).map(|r| r.meta().arn.clone()).collect();
                self.retain(|r| tagged_for(r.meta(), stack));
                dropped
            }
            Scoping::Tagged => {
                let dropped: Vec<String> = self.iter().filter(|r| !tagged_only_for(r.meta(), stack)).map(|r| r.meta().arn.clone()).collect();
                self.retain(|r| tagged_only_for(r.meta(), stack));
                dropped
            }
            Scoping::Account(_) => {
                let dropped: Vec<String> = self.iter().map(|r| r.meta().arn.clone()).collect();
                self.items.clear();
                dropped
            }
            Scoping::PartOf(_) | Scoping::Kept(_) => Vec::new(),
        }
    }
}

/// In `stack`'s scope by its tags: tagged for it, untagged, or tags unknown.
fn tagged_for(meta: &Meta, stack: &str) -> bool {
    meta.stack().is_none_or(|s| s == stack)
}

/// In `stack`'s scope under [`Scoping::Tagged`]: tagged for it, or tags unknown.
fn tagged_only_for(meta: &Meta, stack: &str) -> bool {
    match &meta.tags {
        super::Observed::Unknown(_) => true,
        super::Observed::Known(_) => meta.stack() == Some(stack),
    }
}

/// A part field that is not a collection (`kms.aliases`, `logs.out_of_scope`): merged across
/// regions by union. A `Collection` is not one: list it with its resource type and scoping.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is listed in `also {{ … }}` in `model::services!` but is not a set or map",
    note = "a `Collection` is listed with its resource type and scoping rule: `field: \"svc:type\", by_tag;`"
)]
pub trait Extra {
    fn merge(&mut self, other: Self);
}

impl<T: Ord> Extra for BTreeSet<T> {
    fn merge(&mut self, other: Self) {
        self.extend(other);
    }
}

impl<K: Ord, V> Extra for BTreeMap<K, V> {
    fn merge(&mut self, other: Self) {
        self.extend(other);
    }
}

/// A service's section of the State. Implemented by `define_state!` from the registry only.
pub trait Part: Default {
    /// Every `Collection` of the part, in declaration order.
    fn collections(&self, f: &mut dyn FnMut(CollectionEntry, &dyn AnyCollection));
    fn collections_mut(&mut self, f: &mut dyn FnMut(CollectionEntry, &mut dyn AnyCollection));
    /// Add another region's part: every collection and every other field.
    fn merge(&mut self, other: Self);
    /// Keep what is in `stack`'s scope (each collection by its [`Scoping`]), remembering what
    /// is left out where the registry says so.
    fn retain_stack(&mut self, stack: &str);
}

/// `by_tag`, `tagged`, `account("…")`, `part_of("…")`, `kept("…")` → [`Scoping`].
macro_rules! scoping {
    (by_tag) => {
        $crate::model::registry::Scoping::ByTag
    };
    (tagged) => {
        $crate::model::registry::Scoping::Tagged
    };
    (account $why:literal) => {
        $crate::model::registry::Scoping::Account($why)
    };
    (part_of $why:literal) => {
        $crate::model::registry::Scoping::PartOf($why)
    };
    (kept $why:literal) => {
        $crate::model::registry::Scoping::Kept($why)
    };
}
pub(crate) use scoping;

/// `remembered in <field>` → `Some("<field>")`.
macro_rules! remembered {
    () => {
        None
    };
    ($field:ident) => {
        Some(stringify!($field))
    };
}
pub(crate) use remembered;

/// Generates `State`, `SERVICES`, `REGISTRY` and each part's [`Part`] from the registry list.
macro_rules! define_state {
    ($(
        $(#[$doc:meta])*
        $section:ident : $part:ty, recorder $recorder:literal, $reach:ident {
            $( $coll:ident : $rtype:literal, $rule:ident $(($why:literal))? $(, remembered in $remember:ident)? ; )*
        } $(also { $($extra:ident),* $(,)? })? ;
    )*) => {
        /// Everything known about an account (live) or declared by a stack file (desired), one
        /// section per service of the registry (`services!`). Deserialised strictly: every
        /// section must be present (a missing one is an error, never an empty, clean service).
        #[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct State {
            $( $(#[$doc])* pub $section: $part, )*
        }

        /// The services a State holds, by their section name in the State and in snapshots.
        pub const SERVICES: &[&str] = &[$(stringify!($section)),*];

        /// Every service of the registry, in the order of [`SERVICES`].
        pub const REGISTRY: &[$crate::model::registry::ServiceEntry] = &[$(
            $crate::model::registry::ServiceEntry {
                name: stringify!($section),
                recorder: $recorder,
                reach: $crate::model::registry::Reach::$reach,
            }
        ),*];

        $(
        impl $crate::model::registry::Part for $part {
            fn collections(&self, f: &mut dyn FnMut($crate::model::registry::CollectionEntry, &dyn $crate::model::registry::AnyCollection)) {
                $( f($crate::model::registry::CollectionEntry {
                    field: stringify!($coll),
                    resource_type: $rtype,
                    scoping: $crate::model::registry::scoping!($rule $($why)?),
                    remembered_in: $crate::model::registry::remembered!($($remember)?),
                }, &self.$coll); )*
            }

            fn collections_mut(&mut self, f: &mut dyn FnMut($crate::model::registry::CollectionEntry, &mut dyn $crate::model::registry::AnyCollection)) {
                $( f($crate::model::registry::CollectionEntry {
                    field: stringify!($coll),
                    resource_type: $rtype,
                    scoping: $crate::model::registry::scoping!($rule $($why)?),
                    remembered_in: $crate::model::registry::remembered!($($remember)?),
                }, &mut self.$coll); )*
            }

            fn merge(&mut self, other: Self) {
                // no `..`: a field of the part that the registry does not list does not compile
                // ("pattern requires `..` due to inaccessible fields": add it to the entry)
                let Self { $($coll,)* $($($extra,)*)? } = other;
                $( self.$coll.extend($coll); )*
                $($( $crate::model::registry::Extra::merge(&mut self.$extra, $extra); )*)?
            }

            fn retain_stack(&mut self, stack: &str) {
                $(
                    #[allow(unused_variables)]
                    let dropped = $crate::model::registry::AnyCollection::retain_stack(&mut self.$coll, $crate::model::registry::scoping!($rule $($why)?), stack);
                    $( self.$remember.extend(dropped); )?
                )*
            }
        }
        )*

        impl State {
            /// Add another region's State, service by service.
            pub fn merge(&mut self, other: State) {
                let State { $($section),* } = other;
                $( $crate::model::registry::Part::merge(&mut self.$section, $section); )*
            }

            /// Keep only what is in `stack`'s scope (for snapshots taken account-wide), as a
            /// stack-scoped collection does.
            pub fn retain_stack(&mut self, stack: &str) {
                $( $crate::model::registry::Part::retain_stack(&mut self.$section, stack); )*
            }

            /// Every collection of every service, with the registry's entries.
            pub fn collections(&self, f: &mut dyn FnMut(&$crate::model::registry::ServiceEntry, $crate::model::registry::CollectionEntry, &dyn $crate::model::registry::AnyCollection)) {
                let mut services = REGISTRY.iter();
                $(
                    let service = services.next().expect("one registry entry per section");
                    $crate::model::registry::Part::collections(&self.$section, &mut |e, c| f(service, e, c));
                )*
            }

            /// Like [`State::collections`], mutably.
            pub fn collections_mut(&mut self, f: &mut dyn FnMut(&$crate::model::registry::ServiceEntry, $crate::model::registry::CollectionEntry, &mut dyn $crate::model::registry::AnyCollection)) {
                let mut services = REGISTRY.iter();
                $(
                    let service = services.next().expect("one registry entry per section");
                    $crate::model::registry::Part::collections_mut(&mut self.$section, &mut |e, c| f(service, e, c));
                )*
            }

            /// Resources per type (the registry's resource types), for the report's statistics.
            pub fn count_resources(&self) -> std::collections::BTreeMap<String, usize> {
                let mut m = std::collections::BTreeMap::new();
                self.collections(&mut |_, e, c| {
                    if !c.is_empty() {
                        m.insert(e.resource_type.to_string(), c.len());
                    }
                });
                m
            }
        }
    };
}
pub(crate) use define_state;

#[cfg(test)]
mod tests;
