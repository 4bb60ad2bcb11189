//! Token lengths of synthetic requests.
//!
//! The default is a pair of independent log-normals fitted to the Azure LLM inference
//! trace 2023, conversation service (`AzureLLMInferenceTrace_conv.csv`, 19,366
//! requests; "Azure LLM inference trace 2023, Microsoft Azure Public Dataset",
//! CC-BY 4.0). The parameters are the mean and population standard deviation of
//! `ln(tokens)` over all rows, computed once from that file:
//!
//! | column            | mean of ln | σ of ln | min | max    | mean tokens |
//! |-------------------|-----------:|--------:|----:|-------:|------------:|
//! | `ContextTokens`   | 6.633313   | 0.985154|   2 | 14,050 | 1,154.7     |
//! | `GeneratedTokens` | 5.018997   | 0.859009|   7 |  1,000 |   211.1     |
//!
//! Samples are clamped to the observed range (the service capped output at 1,000).
//! An [`Empirical`](TokenModel::Empirical) model resamples `(prompt, output)` pairs of
//! a real trace instead, which keeps their correlation and exact shape.

use crate::request::Request;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};

/// The largest token count a trace may hold (the crate-wide limit, which fits in u32).
const TOKEN_CAP: u32 = crate::MAX_TOKENS as u32;

/// A log-normal token length: `exp(N(mu, sigma))`, rounded and clamped to `min..=max`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogNormalTokens {
    pub mu: f64,
    pub sigma: f64,
    pub min: u32,
    pub max: u32,
}

impl LogNormalTokens {
    /// The mean of the unclamped distribution, `exp(mu + sigma²/2)`.
    pub fn mean(&self) -> f64 {
        (self.mu + self.sigma * self.sigma / 2.0).exp()
    }
}

/// Azure 2023 conversation trace, prompt (`ContextTokens`) lengths; see the module docs.
pub const AZURE_CONV_PROMPT: LogNormalTokens = LogNormalTokens {
    mu: 6.633313,
    sigma: 0.985154,
    min: 2,
    max: 14_050,
};
/// Azure 2023 conversation trace, output (`GeneratedTokens`) lengths; see the module docs.
pub const AZURE_CONV_OUTPUT: LogNormalTokens = LogNormalTokens {
    mu: 5.018997,
    sigma: 0.859009,
    min: 7,
    max: 1_000,
};

/// Where the prompt and output lengths of generated requests come from.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenModel {
    /// Independent log-normals for prompt and output lengths.
    LogNormal {
        prompt: LogNormalTokens,
        output: LogNormalTokens,
    },
    /// `(prompt, output)` pairs drawn uniformly, with replacement, from a real trace.
    Empirical(Vec<(u32, u32)>),
    /// Every request the same size.
    Fixed { prompt: u32, output: u32 },
}

impl Default for TokenModel {
    fn default() -> TokenModel {
        TokenModel::azure_conv()
    }
}

/// A token model that cannot generate.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TokenModelError {
    #[error(
        "{which} log-normal: expected a finite mu and a sigma >= 0, found mu {mu}, sigma {sigma}"
    )]
    BadLogNormal {
        which: &'static str,
        mu: f64,
        sigma: f64,
    },
    #[error("{which} log-normal: expected 1 <= min <= max, found min {min}, max {max}")]
    BadRange {
        which: &'static str,
        min: u32,
        max: u32,
    },
    #[error("empirical token model: expected at least one request, found none")]
    EmptyEmpirical,
    #[error(
        "token spec: expected `azure-conv`, `lognormal:MU,SIGMA[,MU_OUT,SIGMA_OUT]`, `fixed:PROMPT,OUTPUT` or `empirical:FILE`, found `{0}`"
    )]
    BadSpec(String),
}

impl TokenModel {
    /// Log-normals fitted to the Azure conversation trace (the default).
    pub fn azure_conv() -> TokenModel {
        TokenModel::LogNormal {
            prompt: AZURE_CONV_PROMPT,
            output: AZURE_CONV_OUTPUT,
        }
    }

    /// Resamples the sizes of real requests (failed ones are skipped).
    pub fn empirical(
        requests: impl IntoIterator<Item = Request>,
    ) -> Result<TokenModel, TokenModelError> {
        let pairs: Vec<(u32, u32)> = requests
            .into_iter()
            .filter(|r| !r.failed)
            .map(|r| (r.prompt_tokens.max(1), r.output_tokens.max(1)))
            .collect();
        if pairs.is_empty() {
            return Err(TokenModelError::EmptyEmpirical);
        }
        Ok(TokenModel::Empirical(pairs))
    }

    /// Parses the command-line forms `azure-conv`, `lognormal:MU,SIGMA` (prompt; output
    /// keeps the Azure fit), `lognormal:MU,SIGMA,MU_OUT,SIGMA_OUT` and
    /// `fixed:PROMPT,OUTPUT`. `empirical:FILE` needs a trace reader and is handled by
    /// the caller, which then uses [`TokenModel::empirical`].
    pub fn parse_spec(spec: &str) -> Result<TokenModel, TokenModelError> {
        let bad = || TokenModelError::BadSpec(spec.to_string());
        let spec_trim = spec.trim();
        if spec_trim.eq_ignore_ascii_case("azure-conv") || spec_trim.eq_ignore_ascii_case("azure") {
            return Ok(TokenModel::azure_conv());
        }
        let (kind, args) = spec_trim.split_once(':').ok_or_else(bad)?;
        let numbers: Vec<f64> = args
            .split(',')
            .map(|a| a.trim().parse::<f64>().map_err(|_| bad()))
            .collect::<Result<_, _>>()?;
        let model = match (kind.to_ascii_lowercase().as_str(), numbers.as_slice()) {
            ("lognormal", [mu, sigma]) => TokenModel::LogNormal {
                prompt: LogNormalTokens {
                    mu: *mu,
                    sigma: *sigma,
                    min: 1,
                    max: TOKEN_CAP,
                },
                output: AZURE_CONV_OUTPUT,
            },
            ("lognormal", [mu, sigma, mu_out, sigma_out]) => TokenModel::LogNormal {
                prompt: LogNormalTokens {
                    mu: *mu,
                    sigma: *sigma,
                    min: 1,
                    max: TOKEN_CAP,
                },
                output: LogNormalTokens {
                    mu: *mu_out,
                    sigma: *sigma_out,
                    min: 1,
                    max: TOKEN_CAP,
                },
            },
            ("fixed", [prompt, output])
                if *prompt >= 1.0
                    && *output >= 1.0
                    && *prompt <= f64::from(u32::MAX)
                    && *output <= f64::from(u32::MAX) =>
            {
                TokenModel::Fixed {
                    prompt: *prompt as u32,
                    output: *output as u32,
                }
            }
            _ => return Err(bad()),
        };
        model.validate()?;
        Ok(model)
    }

    /// Checks the parameters so that sampling cannot fail.
    pub fn validate(&self) -> Result<(), TokenModelError> {
        match self {
            TokenModel::LogNormal { prompt, output } => {
                for (which, d) in [("prompt", prompt), ("output", output)] {
                    if !(d.mu.is_finite() && d.sigma.is_finite() && d.sigma >= 0.0) {
                        return Err(TokenModelError::BadLogNormal {
                            which,
                            mu: d.mu,
                            sigma: d.sigma,
                        });
                    }
                    if d.min == 0 || d.min > d.max {
                        return Err(TokenModelError::BadRange {
                            which,
                            min: d.min,
                            max: d.max,
                        });
                    }
                }
                Ok(())
            }
            TokenModel::Empirical(pairs) if pairs.is_empty() => {
                Err(TokenModelError::EmptyEmpirical)
            }
            TokenModel::Empirical(_) | TokenModel::Fixed { .. } => Ok(()),
        }
    }

    /// The expected prompt and output lengths (before clamping, for log-normals).
    pub fn means(&self) -> (f64, f64) {
        match self {
            TokenModel::LogNormal { prompt, output } => (prompt.mean(), output.mean()),
            TokenModel::Empirical(pairs) => {
                let n = pairs.len().max(1) as f64;
                let p: f64 = pairs.iter().map(|p| f64::from(p.0)).sum();
                let o: f64 = pairs.iter().map(|p| f64::from(p.1)).sum();
                (p / n, o / n)
            }
            TokenModel::Fixed { prompt, output } => (f64::from(*prompt), f64::from(*output)),
        }
    }
}

/// A validated [`TokenModel`] ready to draw from.
pub(crate) enum TokenSampler {
    LogNormal {
        prompt: (LogNormal<f64>, u32, u32),
        output: (LogNormal<f64>, u32, u32),
    },
    Empirical(Vec<(u32, u32)>),
    Fixed(u32, u32),
}

impl TokenSampler {
    pub(crate) fn new(model: &TokenModel) -> Result<TokenSampler, TokenModelError> {
        model.validate()?;
        let lognormal = |which: &'static str, d: &LogNormalTokens| {
            LogNormal::new(d.mu, d.sigma)
                .map(|ln| (ln, d.min, d.max))
                .map_err(|_| TokenModelError::BadLogNormal {
                    which,
                    mu: d.mu,
                    sigma: d.sigma,
                })
        };
        Ok(match model {
            TokenModel::LogNormal { prompt, output } => TokenSampler::LogNormal {
                prompt: lognormal("prompt", prompt)?,
                output: lognormal("output", output)?,
            },
            TokenModel::Empirical(pairs) => TokenSampler::Empirical(pairs.clone()),
            TokenModel::Fixed { prompt, output } => TokenSampler::Fixed(*prompt, *output),
        })
    }

    pub(crate) fn sample(&self, rng: &mut ChaCha8Rng) -> (u32, u32) {
        match self {
            TokenSampler::LogNormal { prompt, output } => {
                let draw = |(d, min, max): &(LogNormal<f64>, u32, u32), rng: &mut ChaCha8Rng| {
                    d.sample(rng)
                        .round()
                        .clamp(f64::from(*min), f64::from(*max)) as u32
                };
                let p = draw(prompt, rng);
                (p, draw(output, rng))
            }
            TokenSampler::Empirical(pairs) => pairs[rng.random_range(0..pairs.len())],
            TokenSampler::Fixed(p, o) => (*p, *o),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        assert_eq!(
            TokenModel::parse_spec("azure-conv").unwrap(),
            TokenModel::azure_conv()
        );
        let TokenModel::LogNormal { prompt, .. } = TokenModel::parse_spec("lognormal:6,1").unwrap()
        else {
            panic!("expected log-normal")
        };
        assert_eq!((prompt.mu, prompt.sigma), (6.0, 1.0));
        assert_eq!(
            TokenModel::parse_spec("fixed:100,20").unwrap(),
            TokenModel::Fixed {
                prompt: 100,
                output: 20
            }
        );
        assert!(TokenModel::parse_spec("lognormal:6,-1").is_err());
        assert!(TokenModel::parse_spec("gaussian:1,2").is_err());
        assert!(TokenModel::parse_spec("fixed:0,1").is_err());
    }
}
