//! Runs of one pipeline share one compiled plan.
//!
//! Every submission is loaded afresh (its file may have changed since the
//! last), but a service typically runs the same pipeline many times over, and a
//! plan is most of what a waiting run holds. So once loaded, a plan equal to one
//! a live run already uses is dropped and the live one shared. Plans are
//! compared whole, so two submissions share only when everything that makes the
//! plan — the file, anything it includes, the parameters and overrides applied
//! — came out the same.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Weak};

use tracker_runtime::plan::SpawnPlan;

/// How many [`PlanCache::share`] calls between sweeps of the whole cache for
/// plans no run uses any longer.
const SWEEP_EVERY: u32 = 256;

/// What plans are filed under: the workflow's name and its graph attributes
/// (parameters included), so that plans differing only in their parameters —
/// many runs of one pipeline, each with its own — are never compared node by
/// node.
type Key = (String, BTreeMap<String, String>);

/// The plans live runs use, by workflow name and graph attributes. Holds them
/// weakly: a plan goes when its last run does.
#[derive(Default)]
pub struct PlanCache {
    by_key: HashMap<Key, Vec<Weak<SpawnPlan>>>,
    since_sweep: u32,
}

impl PlanCache {
    /// `plan`, or an equal plan a live run already uses.
    pub fn share(&mut self, plan: SpawnPlan) -> Arc<SpawnPlan> {
        self.since_sweep += 1;
        if self.since_sweep >= SWEEP_EVERY {
            self.since_sweep = 0;
            self.by_key.retain(|_, kept| {
                kept.retain(|p| p.strong_count() > 0);
                !kept.is_empty()
            });
        }
        let key = (plan.name.clone(), plan.graph_attrs.clone());
        let kept = self.by_key.entry(key).or_default();
        kept.retain(|p| p.strong_count() > 0);
        if let Some(same) = kept.iter().filter_map(Weak::upgrade).find(|p| **p == plan) {
            return same;
        }
        let plan = Arc::new(plan);
        kept.push(Arc::downgrade(&plan));
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl PlanCache {
        /// How many distinct plans live runs use.
        fn live(&self) -> usize {
            self.by_key
                .values()
                .flatten()
                .filter(|p| p.strong_count() > 0)
                .count()
        }
    }

    fn plan(text: &str) -> SpawnPlan {
        let (workflow, diagnostics) = dippin::parse_dip(text);
        assert!(!diagnostics.iter().any(|d| d.is_error()), "{diagnostics:?}");
        SpawnPlan::compile(&workflow).expect("compiles")
    }

    const FLOW: &str = "workflow Flow\n  start: A\n  exit: B\n  agent A\n    prompt: one\n  agent B\n    prompt: two\n  edges\n    A -> B\n";

    #[test]
    fn equal_plans_are_shared_and_different_ones_are_not() {
        let mut cache = PlanCache::default();
        let first = cache.share(plan(FLOW));
        let again = cache.share(plan(FLOW));
        assert!(
            Arc::ptr_eq(&first, &again),
            "the same pipeline shares a plan"
        );
        let changed = cache.share(plan(&FLOW.replace("prompt: two", "prompt: three")));
        assert!(
            !Arc::ptr_eq(&first, &changed),
            "a changed pipeline does not"
        );
        let mut overridden = plan(FLOW);
        overridden.graph_attrs.insert("params.x".into(), "1".into());
        let overridden = cache.share(overridden);
        assert!(
            !Arc::ptr_eq(&first, &overridden),
            "nor one with other parameters"
        );
        assert_eq!(cache.live(), 3);
        drop(overridden);
        assert_eq!(cache.live(), 2, "the overridden plan's only run is gone");
    }

    #[test]
    fn a_plan_goes_with_its_last_run() {
        let mut cache = PlanCache::default();
        let first = cache.share(plan(FLOW));
        let weak = Arc::downgrade(&first);
        drop(first);
        assert!(weak.upgrade().is_none(), "the cache does not keep it alive");
        assert_eq!(cache.live(), 0);
        let fresh = cache.share(plan(FLOW));
        assert_eq!(Arc::strong_count(&fresh), 1);
        // Names no run uses any longer are swept from time to time.
        for i in 0..2 * SWEEP_EVERY {
            drop(cache.share(plan(&FLOW.replace("Flow", &format!("Gone{i}")))));
        }
        assert!(cache.by_key.len() <= SWEEP_EVERY as usize + 1);
        assert!(
            cache.by_key.keys().any(|(name, _)| name == "Flow"),
            "a live plan stays"
        );
        assert_eq!(cache.live(), 1);
    }
}
