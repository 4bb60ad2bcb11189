//! Synthetic generators: mean rates, burstiness, determinism and token lengths.

use traces::Request;
use traces::generate::{GenerateConfig, GenerateError, Pattern, TokenModel, generate};

const MINUTE_US: i64 = 60_000_000;

fn config(pattern: Pattern, duration_us: i64, rate_rps: f64, seed: u64) -> GenerateConfig {
    GenerateConfig {
        pattern,
        duration_us,
        rate_rps,
        seed,
        tokens: TokenModel::azure_conv(),
    }
}

fn run(config: &GenerateConfig) -> Vec<Request> {
    generate(config).unwrap().collect()
}

fn mean_rate(requests: &[Request], duration_us: i64) -> f64 {
    requests.len() as f64 / (duration_us as f64 / 1e6)
}

/// Coefficient of variation of the gaps between arrivals.
fn gap_cv(requests: &[Request]) -> f64 {
    let gaps: Vec<f64> = requests
        .windows(2)
        .map(|w| (w[1].arrival_us - w[0].arrival_us) as f64)
        .collect();
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
    var.sqrt() / mean
}

fn check_basics(requests: &[Request], duration_us: i64) {
    assert!(
        requests
            .windows(2)
            .all(|w| w[0].arrival_us <= w[1].arrival_us),
        "arrivals out of order"
    );
    assert!(
        requests
            .iter()
            .all(|r| (0..duration_us).contains(&r.arrival_us))
    );
    assert!(
        requests
            .iter()
            .all(|r| r.prompt_tokens >= 1 && r.output_tokens >= 1)
    );
}

#[test]
fn every_pattern_keeps_the_mean_rate() {
    let duration = 120 * MINUTE_US;
    let rate = 5.0;
    let patterns = [
        Pattern::Poisson,
        Pattern::Gamma { cv: 2.0 },
        Pattern::Diurnal {
            period_us: 20 * MINUTE_US,
            amplitude: 0.6,
            weekly_amplitude: 0.0,
            peak_us: 5 * MINUTE_US,
            noise_sigma: 0.1,
            noise_interval_us: MINUTE_US,
        },
        Pattern::Mmpp {
            burst_rate_rps: 15.0,
            mean_on_us: 30_000_000,
            mean_off_us: 90_000_000,
        },
        Pattern::Step {
            at_us: 30 * MINUTE_US,
            factor: 3.0,
        },
        Pattern::Ramp { factor: 4.0 },
    ];
    for pattern in patterns {
        let requests = run(&config(pattern.clone(), duration, rate, 11));
        check_basics(&requests, duration);
        let measured = mean_rate(&requests, duration);
        // Bursty patterns vary more between seeds; 10% covers them at this length.
        assert!(
            (measured - rate).abs() < 0.1 * rate,
            "{}: mean rate {measured}",
            pattern.name()
        );
    }
}

#[test]
fn gamma_is_burstier_than_poisson() {
    let duration = 60 * MINUTE_US;
    let poisson = gap_cv(&run(&config(Pattern::Poisson, duration, 10.0, 3)));
    let gamma = gap_cv(&run(&config(Pattern::Gamma { cv: 3.0 }, duration, 10.0, 3)));
    assert!((poisson - 1.0).abs() < 0.05, "poisson CV {poisson}");
    assert!(gamma > 2.5 && gamma < 3.5, "gamma CV {gamma}");
}

#[test]
fn shapes_follow_their_parameters() {
    let duration = 60 * MINUTE_US;
    let count_in = |r: &[Request], from: i64, to: i64| {
        r.iter()
            .filter(|q| (from..to).contains(&q.arrival_us))
            .count()
    };
    let step = run(&config(
        Pattern::Step {
            at_us: 30 * MINUTE_US,
            factor: 3.0,
        },
        duration,
        4.0,
        5,
    ));
    let ratio = count_in(&step, 30 * MINUTE_US, duration) as f64
        / count_in(&step, 0, 30 * MINUTE_US) as f64;
    assert!((ratio - 3.0).abs() < 0.3, "step ratio {ratio}");
    let ramp = run(&config(Pattern::Ramp { factor: 4.0 }, duration, 4.0, 5));
    let ratio = count_in(&ramp, 50 * MINUTE_US, duration) as f64
        / count_in(&ramp, 0, 10 * MINUTE_US) as f64;
    // Rates at the two windows' middles: 3.75/1.25 of the start rate → ratio 2.6.
    assert!((ratio - 2.6).abs() < 0.4, "ramp ratio {ratio}");
    let diurnal = Pattern::Diurnal {
        period_us: duration,
        amplitude: 0.8,
        weekly_amplitude: 0.0,
        peak_us: 0,
        noise_sigma: 0.0,
        noise_interval_us: MINUTE_US,
    };
    let day = run(&config(diurnal, duration, 4.0, 5));
    let peak = count_in(&day, 0, 5 * MINUTE_US) + count_in(&day, 55 * MINUTE_US, duration);
    let trough = count_in(&day, 25 * MINUTE_US, 35 * MINUTE_US);
    assert!(
        peak as f64 > 4.0 * trough as f64,
        "diurnal peak {peak} trough {trough}"
    );
}

#[test]
fn same_seed_same_trace_other_seed_other_trace() {
    for name in Pattern::NAMES {
        let pattern = Pattern::with_defaults(name, 3.0, 10 * MINUTE_US).unwrap();
        let a = run(&config(pattern.clone(), 10 * MINUTE_US, 3.0, 99));
        let b = run(&config(pattern.clone(), 10 * MINUTE_US, 3.0, 99));
        let c = run(&config(pattern, 10 * MINUTE_US, 3.0, 100));
        assert_eq!(a, b, "{name} is not deterministic");
        assert_ne!(a, c, "{name} ignores the seed");
    }
}

#[test]
fn token_model_does_not_move_arrivals() {
    let mut fixed = config(Pattern::Poisson, 5 * MINUTE_US, 2.0, 1);
    fixed.tokens = TokenModel::Fixed {
        prompt: 100,
        output: 10,
    };
    let azure = config(Pattern::Poisson, 5 * MINUTE_US, 2.0, 1);
    let times = |r: Vec<Request>| r.into_iter().map(|q| q.arrival_us).collect::<Vec<_>>();
    assert_eq!(times(run(&fixed)), times(run(&azure)));
}

#[test]
fn azure_token_lengths_match_the_fit() {
    let requests = run(&config(Pattern::Poisson, 120 * MINUTE_US, 5.0, 8));
    let log_mean = |f: fn(&Request) -> u32| {
        requests.iter().map(|r| f64::from(f(r)).ln()).sum::<f64>() / requests.len() as f64
    };
    let prompt = log_mean(|r| r.prompt_tokens);
    let output = log_mean(|r| r.output_tokens);
    assert!((prompt - 6.633).abs() < 0.05, "mean ln prompt {prompt}");
    assert!((output - 5.019).abs() < 0.05, "mean ln output {output}");
    assert!(
        requests
            .iter()
            .all(|r| r.output_tokens <= 1000 && r.prompt_tokens <= 14_050)
    );
}

#[test]
fn empirical_tokens_resample_the_source() {
    let source: Vec<Request> = run(&config(Pattern::Poisson, MINUTE_US, 2.0, 4))
        .into_iter()
        .enumerate()
        .map(|(i, mut r)| {
            r.prompt_tokens = 10 + i as u32;
            r.output_tokens = 1000 + i as u32;
            r
        })
        .collect();
    let pairs: Vec<(u32, u32)> = source
        .iter()
        .map(|r| (r.prompt_tokens, r.output_tokens))
        .collect();
    let mut cfg = config(Pattern::Poisson, MINUTE_US, 5.0, 4);
    cfg.tokens = TokenModel::empirical(source).unwrap();
    for r in run(&cfg) {
        assert!(pairs.contains(&(r.prompt_tokens, r.output_tokens)));
    }
    assert!(TokenModel::empirical(Vec::new()).is_err());
}

#[test]
fn bad_parameters_are_errors_not_panics() {
    let cases = [
        config(Pattern::Poisson, MINUTE_US, 0.0, 1),
        config(Pattern::Poisson, 0, 1.0, 1),
        config(Pattern::Gamma { cv: -1.0 }, MINUTE_US, 1.0, 1),
        config(
            Pattern::Mmpp {
                burst_rate_rps: 100.0,
                mean_on_us: 50,
                mean_off_us: 50,
            },
            MINUTE_US,
            1.0,
            1,
        ),
        config(Pattern::Ramp { factor: f64::NAN }, MINUTE_US, 1.0, 1),
        config(
            Pattern::Diurnal {
                period_us: 0,
                amplitude: 0.5,
                weekly_amplitude: 0.0,
                peak_us: 0,
                noise_sigma: 0.0,
                noise_interval_us: 1,
            },
            MINUTE_US,
            1.0,
            1,
        ),
    ];
    for case in cases {
        let err: GenerateError = generate(&case).err().expect("must be rejected");
        assert!(err.to_string().contains("expected"), "{err}");
    }
}

#[test]
fn baked_azure_parameters_come_from_the_trace() {
    use traces::generate::tokens::{AZURE_CONV_OUTPUT, AZURE_CONV_PROMPT};
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/azure-llm-2023/AzureLLMInferenceTrace_conv.csv");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!(
            "SKIP: {} is absent (shared data not laid out)",
            path.display()
        );
        return;
    };
    let mut logs: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        for (column, logs) in logs.iter_mut().enumerate() {
            logs.push(fields[column + 1].trim().parse::<f64>().unwrap().ln());
        }
    }
    for (logs, fit) in logs.iter().zip([AZURE_CONV_PROMPT, AZURE_CONV_OUTPUT]) {
        let n = logs.len() as f64;
        let mean = logs.iter().sum::<f64>() / n;
        let sigma = (logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / n).sqrt();
        assert!(
            (mean - fit.mu).abs() < 1e-5 && (sigma - fit.sigma).abs() < 1e-5,
            "{mean} {sigma} vs {fit:?}"
        );
    }
}

#[test]
fn knobs_override_defaults_and_foreign_knobs_are_refused() {
    use traces::generate::{KnobError, Pattern, PatternKnobs};
    let knobs = PatternKnobs {
        cv: Some(3.5),
        ..PatternKnobs::default()
    };
    assert_eq!(
        Pattern::with_knobs("gamma", 2.0, 1_000_000, &knobs),
        Ok(Pattern::Gamma { cv: 3.5 })
    );
    assert_eq!(
        Pattern::with_knobs("poisson", 2.0, 1_000_000, &knobs),
        Err(KnobError::NotForPattern {
            knob: "cv",
            pattern: "poisson"
        })
    );
    let step = PatternKnobs {
        factor: Some(5.0),
        step_at_us: Some(7),
        ..PatternKnobs::default()
    };
    assert_eq!(
        Pattern::with_knobs("step", 2.0, 1_000_000, &step),
        Ok(Pattern::Step {
            at_us: 7,
            factor: 5.0
        })
    );
    assert!(matches!(
        Pattern::with_knobs("sawtooth", 2.0, 1_000_000, &step),
        Err(KnobError::UnknownPattern { .. })
    ));
}
