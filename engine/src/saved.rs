//! A scaler's state as a document a driver stores between processes (the operator keeps
//! it in a ConfigMap owned by the scaler): versioned JSON whose size is checked against
//! what a ConfigMap holds, so a state that would not fit is an error at save time, not a
//! write that fails later.
//!
//! Every state is bounded by construction (windows of fixed length, 168 + 24 seasonal
//! buckets per signal, the last 8 cold starts and bursts, …); `tests/budscaler.rs`
//! measures a BudScaler with every feature after eight days.

use crate::scaler::{Scaler, ScalerError, ScalerState};
use crate::spec::BudAIScaler;
use serde::{Deserialize, Serialize};

/// The document's layout version.
pub const SAVED_VERSION: u32 = 1;

/// The largest document [`save`] writes: a ConfigMap holds 1 MiB in all, and its name,
/// labels and owner reference need some of it.
pub const SAVED_MAX_BYTES: usize = 1_000_000;

/// The stored document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    pub version: u32,
    pub state: ScalerState,
}

/// A state that cannot be saved or loaded.
#[derive(Debug, thiserror::Error)]
pub enum SavedError {
    #[error("the saved state is {bytes} bytes, more than the {limit} a ConfigMap can hold")]
    TooLarge { bytes: usize, limit: usize },
    #[error("saved state format {found} is not this engine's {expected}")]
    Version { found: u32, expected: u32 },
    #[error("saved state is not valid JSON: {0}")]
    Json(String),
    #[error(transparent)]
    Scaler(#[from] ScalerError),
}

/// `scaler`'s state as the stored document.
pub fn save(scaler: &Scaler) -> Result<String, SavedError> {
    let text = serde_json::to_string(&Saved {
        version: SAVED_VERSION,
        state: scaler.snapshot(),
    })
    .map_err(|e| SavedError::Json(e.to_string()))?;
    if text.len() > SAVED_MAX_BYTES {
        return Err(SavedError::TooLarge {
            bytes: text.len(),
            limit: SAVED_MAX_BYTES,
        });
    }
    Ok(text)
}

/// The scaler for `manifest` continuing from a stored document; a document of another
/// version or strategy is refused (a driver reports it and starts fresh).
pub fn load(manifest: &BudAIScaler, text: &str) -> Result<Scaler, SavedError> {
    /// The version alone, read first: a document of another version may lay out its
    /// state differently, and should be refused for its version, not its shape.
    #[derive(Deserialize)]
    struct Version {
        version: u32,
    }
    let version: Version =
        serde_json::from_str(text).map_err(|e| SavedError::Json(e.to_string()))?;
    if version.version != SAVED_VERSION {
        return Err(SavedError::Version {
            found: version.version,
            expected: SAVED_VERSION,
        });
    }
    let saved: Saved = serde_json::from_str(text).map_err(|e| SavedError::Json(e.to_string()))?;
    Ok(Scaler::restore(manifest, saved.state)?)
}
