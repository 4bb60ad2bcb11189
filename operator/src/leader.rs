//! Leader election on a coordination.k8s.io `Lease`, so that of several operator
//! replicas exactly one acts: the holder renews the lease every pass; another replica
//! takes it over only once `leaseDurationSeconds` have passed since the last renewal.
//! Every write carries the resource version read, so two replicas racing for an expired
//! lease cannot both win (the loser gets a 409).

use crate::cluster::is_conflict;
use engine::time::{Micros, SECOND};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Client;
use kube::api::{Api, PostParams};

/// One replica's claim on the lease.
#[derive(Debug, Clone)]
pub struct LeaderElector {
    api: Api<Lease>,
    name: String,
    identity: String,
    duration_s: i32,
}

fn micro_time(unix_us: Micros) -> MicroTime {
    MicroTime(k8s_openapi::jiff::Timestamp::from_microsecond(unix_us).unwrap_or_default())
}

impl LeaderElector {
    /// The claim of `identity` (the pod's name) on lease `name` in `namespace`.
    pub fn new(
        client: Client,
        namespace: &str,
        name: &str,
        identity: &str,
        duration_s: i32,
    ) -> LeaderElector {
        LeaderElector {
            api: Api::namespaced(client, namespace),
            name: name.to_string(),
            identity: identity.to_string(),
            duration_s,
        }
    }

    /// Takes or renews the lease at `now`; `Ok(true)` while this replica leads.
    pub async fn acquire_or_renew(&self, now: Micros) -> Result<bool, kube::Error> {
        let Some(mut lease) = self.api.get_opt(&self.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.name.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(self.claim(now, None, 0)),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(error) if is_conflict(&error) => Ok(false),
                Err(error) => Err(error),
            };
        };
        let spec = lease.spec.clone().unwrap_or_default();
        let mine = spec.holder_identity.as_deref() == Some(self.identity.as_str());
        let renewed = spec.renew_time.as_ref().map_or(0, |t| t.0.as_microsecond());
        let duration =
            Micros::from(spec.lease_duration_seconds.unwrap_or(self.duration_s)) * SECOND;
        let free = spec.holder_identity.as_deref().is_none_or(str::is_empty);
        if !mine && !free && now < renewed + duration {
            return Ok(false);
        }
        let transitions = spec.lease_transitions.unwrap_or(0) + i32::from(!mine);
        let acquired = if mine {
            spec.acquire_time.clone()
        } else {
            None
        };
        lease.spec = Some(self.claim(now, acquired, transitions));
        match self
            .api
            .replace(&self.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(true),
            Err(error) if is_conflict(&error) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Gives the lease up (on shutdown), so another replica takes over at once.
    pub async fn release(&self) -> Result<(), kube::Error> {
        let Some(mut lease) = self.api.get_opt(&self.name).await? else {
            return Ok(());
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            return Ok(());
        }
        spec.holder_identity = None;
        self.api
            .replace(&self.name, &PostParams::default(), &lease)
            .await?;
        Ok(())
    }

    fn claim(&self, now: Micros, acquired: Option<MicroTime>, transitions: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(self.identity.clone()),
            lease_duration_seconds: Some(self.duration_s),
            acquire_time: Some(acquired.unwrap_or_else(|| micro_time(now))),
            renew_time: Some(micro_time(now)),
            lease_transitions: Some(transitions),
            ..LeaseSpec::default()
        }
    }
}
