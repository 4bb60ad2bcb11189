//! The operator's loop over scalers: every step lists the `BudAIScaler` objects, starts
//! runners for new ones (and rebuilds those whose spec changed), forgets deleted ones,
//! finds targets claimed by more than one scaler, and ticks every runner that is due.
//! Time is passed in (Unix µs), so tests step it exactly.

use crate::cluster;
use crate::resource::{ScalerKey, ScalerObject, TargetKey};
use crate::runner::{Context, Logs, Runner};
use engine::time::{Micros, SECOND};
use std::collections::BTreeMap;

/// How often learning is saved while running (and always on shutdown).
pub const DEFAULT_SAVE_EVERY: Micros = 300 * SECOND;

/// The operator's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Watch one namespace; `None` for all.
    pub namespace: Option<String>,
    /// Observation logs (and, with `scrapes`, raw scrape logs) per scaler.
    pub logs: Logs,
    pub save_every: Micros,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            namespace: None,
            logs: Logs::default(),
            save_every: DEFAULT_SAVE_EVERY,
        }
    }
}

/// Every scaler the operator runs.
pub struct Operator {
    ctx: Context,
    settings: Settings,
    runners: BTreeMap<ScalerKey, Runner>,
}

impl Operator {
    pub fn new(ctx: Context, settings: Settings) -> Operator {
        Operator {
            ctx,
            settings,
            runners: BTreeMap::new(),
        }
    }

    /// The runner of `key`, if running.
    pub fn runner(&self, key: &ScalerKey) -> Option<&Runner> {
        self.runners.get(key)
    }

    /// One pass at `now`: list, start, forget, tick what is due. An unreadable list is
    /// an error (counted; nothing else happens this pass).
    pub async fn step(&mut self, now: Micros) -> Result<(), kube::Error> {
        let objects = cluster::list_scalers(&self.ctx.client, self.settings.namespace.as_deref())
            .await
            .inspect_err(|_| self.ctx.metrics.error("list_scalers"))?;
        let mut objects: Vec<ScalerObject> = objects
            .into_iter()
            .filter(|o| o.metadata.name.is_some() && o.metadata.deletion_timestamp.is_none())
            .collect();
        objects.sort_by_key(ScalerObject::key);
        let live: std::collections::BTreeSet<ScalerKey> =
            objects.iter().map(ScalerObject::key).collect();
        self.runners.retain(|key, _| live.contains(key));
        let mut claims: BTreeMap<TargetKey, Vec<String>> = BTreeMap::new();
        for object in &objects {
            if let Some(target) = object.target() {
                claims
                    .entry(target)
                    .or_default()
                    .push(object.key().to_string());
            }
        }
        for object in objects {
            let key = object.key();
            let stale = self
                .runners
                .get(&key)
                .is_none_or(|runner| !runner.runs(&object));
            if stale {
                let runner =
                    Runner::start(&self.ctx, object.clone(), &self.settings.logs, now).await;
                self.runners.insert(key.clone(), runner);
            }
            let Some(runner) = self.runners.get_mut(&key) else {
                continue;
            };
            if !runner.is_due(now) {
                continue;
            }
            let me = key.to_string();
            let conflicts: Vec<String> = object
                .target()
                .and_then(|target| claims.get(&target))
                .map(|names| names.iter().filter(|n| **n != me).cloned().collect())
                .unwrap_or_default();
            runner
                .tick(&self.ctx, object, &conflicts, now, self.settings.save_every)
                .await;
        }
        Ok(())
    }

    /// Saves every scaler's learning (on shutdown, or when leadership is lost).
    pub async fn save_all(&mut self, now: Micros) {
        for runner in self.runners.values_mut() {
            runner.save(&self.ctx, now).await;
        }
    }
}
