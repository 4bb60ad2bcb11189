//! The profile step model (`perf::profile`) on the shared RTX 4090 / Llama-3.1-8B
//! operator profile (skipped with a message when `../shared` is absent), and its
//! errors on bad profiles (made here, in a temporary folder).

use simulator::Catalog;
use simulator::perf::profile::{ProfileError, ProfileModel};
use simulator::perf::{Fs, StepModel, StepShape};
use simulator::validate::{ValidateOptions, validate};
use std::path::{Path, PathBuf};

fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data")
}

fn profile_dir() -> Option<PathBuf> {
    let dir = shared().join("gpu-profiles/RTX4090/meta-llama/Llama-3.1-8B/bf16");
    if !dir.join("meta.yaml").exists() {
        eprintln!(
            "SKIP: {} not found; the profile tests need the shared profiles",
            dir.display()
        );
        return None;
    }
    Some(dir)
}

fn load(dir: &Path, model: &str, tp: u32) -> Result<ProfileModel, ProfileError> {
    let catalog = Catalog::builtin();
    ProfileModel::load(
        dir,
        catalog.gpu("rtx-4090").unwrap(),
        catalog.model(model).unwrap(),
        simulator::perf::Parallelism::tensor(tp),
        &catalog.defaults,
    )
}

#[test]
fn the_fit_reproduces_the_profile_rows_and_decode_runs_sum_their_steps() {
    let Some(dir) = profile_dir() else { return };
    let model = load(&dir, "llama-3.1-8b", 1).unwrap();
    let report = model.fit_report();
    eprintln!("{report:?}");
    assert!(report.attention_rows > 8000);
    // The decode rows, what decode runs cost, are fitted closely; the whole table
    // within the figures the README states.
    assert!(report.decode.mean < 0.10, "{report:?}");
    assert!(report.prefill.mean < 0.05, "{report:?}");
    assert!(report.mixed.mean < 0.20, "{report:?}");
    assert!(report.attention_mean_error < 0.20, "{report:?}");
    for (seqs, context0, steps) in [(1u64, 10u64, 5u64), (64, 30_000, 300), (256, 1_000, 17)] {
        let stepwise: Fs = (0..steps)
            .map(|j| {
                let context = context0 + j * seqs;
                model.step_fs(&StepShape::decode(seqs, context))
            })
            .sum();
        let run = model.decode_run(seqs, context0);
        assert_eq!(run.time_fs(steps), stepwise, "{seqs} x {context0}");
    }
    // One decode of one sequence: the layers' weights and the LM head, ~17 ms on a
    // 4090 (the roofline says the same from bandwidth).
    let one = model.step_fs(&StepShape::decode(1, 100));
    let ms = one as f64 / 1e12;
    assert!((15.0..20.0).contains(&ms), "{ms} ms");
}

#[test]
fn a_replay_with_the_profile_is_within_10_percent() {
    let Some(dir) = profile_dir() else { return };
    let recording_dir = shared().join("vllm-recordings/rtx4090-llama-3.1-8b");
    let recording = traces::vllm_recording::read_recording(&recording_dir).unwrap();
    let (report, _) = validate(
        &recording,
        "rtx4090-llama-3.1-8b",
        &Catalog::builtin(),
        &ValidateOptions {
            profile: Some(dir),
            ..ValidateOptions::default()
        },
    )
    .unwrap();
    assert_eq!(report.setup.step_model, "profile");
    assert!(report.setup.profile_fit.is_some());
    for (name, comparison) in report.metrics.entries() {
        eprintln!("{name}: {comparison:?}");
        assert!(comparison.error_pct.abs() <= 10.0, "{name}: {comparison:?}");
    }
}

/// A copy of the shared profile in a temporary folder, changed by `edit`.
fn broken_copy(name: &str, edit: impl Fn(&Path)) -> Option<PathBuf> {
    let source = profile_dir()?;
    let dir = std::env::temp_dir().join(format!("budscaler-profile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("tp1")).unwrap();
    std::fs::copy(source.join("meta.yaml"), dir.join("meta.yaml")).unwrap();
    for file in ["dense.csv", "attention.csv", "per_sequence.csv"] {
        std::fs::copy(source.join("tp1").join(file), dir.join("tp1").join(file)).unwrap();
    }
    edit(&dir);
    Some(dir)
}

/// A `tp2` folder whose shard times are the `tp1` ones.
fn tp1_as_tp2(dir: &Path) {
    std::fs::create_dir_all(dir.join("tp2")).unwrap();
    for file in ["dense.csv", "attention.csv", "per_sequence.csv"] {
        std::fs::copy(dir.join("tp1").join(file), dir.join("tp2").join(file)).unwrap();
    }
}

fn rewrite(path: &Path, change: impl Fn(String) -> String) {
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, change(text)).unwrap();
}

#[test]
fn bad_profiles_are_refused_naming_file_line_or_field() {
    let Some(ok) = profile_dir() else { return };
    // A degree not profiled.
    let error = load(&ok, "llama-3.1-8b", 2).unwrap_err().to_string();
    assert!(
        error.contains("tensor parallelism 2 was not profiled (profiled: [1])"),
        "{error}"
    );
    // A model whose architecture differs (the 70B has 64 heads).
    let error = load(&ok, "llama-3.1-70b", 1).unwrap_err().to_string();
    assert!(
        error.contains("meta.yaml") && error.contains("llama-3.1-70b"),
        "{error}"
    );
    // Broken copies of the shared profile, each refused naming what is wrong.
    type Edit = Box<dyn Fn(&Path)>;
    let cases: [(&str, Edit, &str); 5] = [
        (
            "column",
            Box::new(|dir| {
                rewrite(&dir.join("tp1/dense.csv"), |t| {
                    t.replacen("time_us", "t_us", 1)
                })
            }),
            "tp1/dense.csv: missing column `time_us`",
        ),
        (
            "number",
            Box::new(|dir| {
                rewrite(&dir.join("tp1/attention.csv"), |t| {
                    t.replacen("0,0,1,32,", "0,0,1,x,", 1)
                })
            }),
            "tp1/attention.csv:3: `kv_decode` is not a number (found `x`)",
        ),
        (
            "operator",
            Box::new(|dir| {
                rewrite(&dir.join("tp1/per_sequence.csv"), |t| {
                    t.lines()
                        .filter(|l| !l.starts_with("sampler"))
                        .collect::<Vec<_>>()
                        .join("\n")
                })
            }),
            "per_sequence.csv: no rows for operator `sampler`",
        ),
        (
            "layer-operator",
            Box::new(|dir| {
                rewrite(&dir.join("tp1/dense.csv"), |t| {
                    t.lines()
                        .filter(|l| !l.starts_with("o_proj"))
                        .collect::<Vec<_>>()
                        .join("\n")
                })
            }),
            "dense.csv: no rows for operator `o_proj`",
        ),
        (
            "missing",
            Box::new(|dir| std::fs::remove_file(dir.join("tp1/dense.csv")).unwrap()),
            "tp1/dense.csv: ",
        ),
    ];
    for (name, edit, expected) in cases {
        let dir = broken_copy(name, edit).unwrap();
        let error = load(&dir, "llama-3.1-8b", 1).unwrap_err().to_string();
        assert!(error.contains(expected), "{name}: {error}");
    }
}

/// Tensor parallelism on the profile path: a `tp2` profile's operator times are one
/// GPU's shard; the step adds the two all-reduces per layer over the catalog's
/// interconnect. Checked against the formula with a `tp2` folder whose shard times are
/// the `tp1` ones (no TP-2 profile is in `../shared`): the difference of two steps is
/// exactly the all-reduce term, and a decode run still sums its steps.
#[test]
fn a_tensor_parallel_profile_adds_the_all_reduces() {
    let Some(dir) = broken_copy("tp2", |dir| {
        tp1_as_tp2(dir);
        rewrite(&dir.join("meta.yaml"), |t| {
            t.replace("tp_degrees: [1]", "tp_degrees: [1, 2]")
        });
    }) else {
        return;
    };
    let catalog = Catalog::builtin();
    let (gpu, model) = (
        catalog.gpu("rtx-4090").unwrap(),
        catalog.model("llama-3.1-8b").unwrap(),
    );
    let tp1 = load(&dir, "llama-3.1-8b", 1).unwrap();
    let tp2 = load(&dir, "llama-3.1-8b", 2).unwrap();
    let shape = StepShape {
        tokens: 512,
        seqs: 4,
        kv_read_tokens: 2048,
        attention_pairs: 100_000,
        decode_seqs: 3,
        decode_context: 1500,
    };
    let (per_step, per_token) =
        simulator::perf::allreduce_seconds(gpu, model, &catalog.defaults, 2);
    // 64 all-reduces of 512 x 4096 x 2 B; a ring at TP 2 moves 2 (2 - 1) / 2 = 1 x the
    // message per GPU over 16 GB/s PCIe; plus 64 x 10 µs of latency.
    let expected_us = (per_step + per_token * 512.0) * 1e6;
    assert!((expected_us - (640.0 + 64.0 * 512.0 * 4096.0 * 2.0 / 16e9 * 1e6)).abs() < 1e-6);
    let added_us = (tp2.step_fs(&shape) - tp1.step_fs(&shape)) as f64 / 1e9;
    assert!(
        (added_us - expected_us).abs() < 0.01,
        "{added_us} vs {expected_us}"
    );
    let run = tp2.decode_run(8, 4000);
    let stepwise: Fs = (0..10u64)
        .map(|j| {
            let context = 4000 + j * 8;
            tp2.step_fs(&StepShape::decode(8, context))
        })
        .sum();
    assert_eq!(run.time_fs(10), stepwise);
}

/// The roofline's efficiency factors checked against the profile on the GPU where both
/// exist (the RTX 4090): step times of decode batches and prefill chunks, roofline ÷
/// profile. Printed for the README, bounded so a change to either model that moves
/// them apart fails here.
#[test]
fn the_roofline_stays_near_the_profile_on_the_rtx_4090() {
    let Some(dir) = profile_dir() else { return };
    let catalog = Catalog::builtin();
    let profile = load(&dir, "llama-3.1-8b", 1).unwrap();
    let roofline = simulator::StepCostModel::new(
        catalog.gpu("rtx-4090").unwrap(),
        catalog.model("llama-3.1-8b").unwrap(),
        &catalog.defaults,
        simulator::perf::Parallelism::tensor(1),
    );
    let mut ratios = Vec::new();
    for (label, shape) in [
        ("decode 1 x 512", StepShape::decode(1, 512)),
        ("decode 16 x 512", StepShape::decode(16, 16 * 512)),
        ("decode 64 x 1024", StepShape::decode(64, 64 * 1024)),
        ("decode 256 x 1024", StepShape::decode(256, 256 * 1024)),
        (
            "prefill 512",
            StepShape {
                tokens: 512,
                seqs: 1,
                kv_read_tokens: 512,
                attention_pairs: 512 * 513 / 2,
                ..StepShape::default()
            },
        ),
        (
            "prefill 2048",
            StepShape {
                tokens: 2048,
                seqs: 1,
                kv_read_tokens: 2048,
                attention_pairs: 2048 * 2049 / 2,
                ..StepShape::default()
            },
        ),
    ] {
        let (r, p) = (
            roofline.step_fs(&shape) as f64,
            profile.step_fs(&shape) as f64,
        );
        eprintln!(
            "{label}: roofline {:.2} ms, profile {:.2} ms, ratio {:.2}",
            r / 1e12,
            p / 1e12,
            r / p
        );
        ratios.push((label, r / p));
    }
    // Decode (bandwidth-bound) from the shared efficiency factors, prefill
    // (compute-bound) from the 4090's own compute efficiency, set from this profile.
    for (label, ratio) in ratios {
        assert!((0.85..1.15).contains(&ratio), "{label}: {ratio}");
    }
}

/// Relabels a copied profile's meta.yaml as Mixtral-8x7B's (same heads and KV heads as
/// Llama-3.1-8B, another vocabulary).
fn as_mixtral(dir: &Path) {
    rewrite(&dir.join("meta.yaml"), |t| {
        t.replace(
            "model: meta-llama/Llama-3.1-8B",
            "model: mistralai/Mixtral-8x7B-v0.1",
        )
        .replace("vocab_size: 128256", "vocab_size: 32000")
    });
}

/// MoE on the profile path, on a synthetic Mixtral-shaped profile (no MoE profile is
/// in `../shared`): the MoE layer's time is read at the experts a step's tokens are
/// expected to activate (8 experts, 2 per token: 2 for one token, 3.5 for two, all 8
/// for many), replacing the MLP operators; a dense model with `moe.csv` and an MoE
/// model without it are refused.
#[test]
fn an_moe_profile_costs_the_experts_a_step_activates() {
    let moe_rows = "tokens,activated_experts,time_us\n1,1,100\n1,8,800\n2,1,110\n2,8,880\n1024,1,1000\n1024,8,8000\n";
    let Some(dir) = broken_copy("moe", |dir| {
        as_mixtral(dir);
        std::fs::write(dir.join("tp1/moe.csv"), moe_rows).unwrap();
    }) else {
        return;
    };
    let moe = load(&dir, "mixtral-8x7b", 1).unwrap();
    // Without the MoE rows the same folder is refused for this model, and the rows are
    // refused for a dense one.
    let dense_dir = broken_copy("moe-missing", as_mixtral).unwrap();
    let error = load(&dense_dir, "mixtral-8x7b", 1).unwrap_err().to_string();
    assert!(
        error.contains("tp1/moe.csv: mixtral-8x7b is a mixture of experts"),
        "{error}"
    );
    let with_rows = broken_copy("moe-dense", |dir| {
        std::fs::write(dir.join("tp1/moe.csv"), moe_rows).unwrap()
    })
    .unwrap();
    let error = load(&with_rows, "llama-3.1-8b", 1).unwrap_err().to_string();
    assert!(error.contains("is dense in the catalog"), "{error}");

    // One decode token activates 2 experts: (100 + (800 − 100) / 7) µs per layer =
    // 200 µs; two tokens 3.5 experts: 110 + 770 × 2.5 / 7 = 385 µs. The difference
    // of the two steps is the MoE difference over 32 layers plus what the other
    // operators add for the second token.
    let one = moe.step_fs(&StepShape::decode(1, 100));
    let two = moe.step_fs(&StepShape::decode(2, 200));
    let moe_added_us = 32.0 * (385.0 - 200.0);
    let added_us = (two - one) as f64 / 1e9;
    assert!(
        added_us > moe_added_us && added_us < moe_added_us + 2_000.0,
        "{added_us}"
    );
    // Decode runs still sum their steps.
    let run = moe.decode_run(4, 400);
    let stepwise: Fs = (0..6u64)
        .map(|j| moe.step_fs(&StepShape::decode(4, 400 + 4 * j)))
        .sum();
    assert_eq!(run.time_fs(6), stepwise);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
    /// Any text in a profile's CSV files gives a model or an error naming the file,
    /// never a panic.
    #[test]
    fn any_profile_text_gives_a_model_or_a_named_error(
        dense in "(layer,tokens,time_us\n)?([a-z_]{1,12},[0-9x.-]{0,5},[0-9x.e-]{0,6}\n){0,6}",
        attention in "(prefill_chunk,kv_prefill,n_decode,kv_decode,time_us\n)?([0-9.-]{0,4},[0-9]{0,3},[0-9]{0,3},[0-9]{0,4},[0-9.e-]{0,5}\n){0,6}",
    ) {
        let Some(source) = profile_dir() else { return Ok(()) };
        let dir = std::env::temp_dir().join(format!("budscaler-profile-prop-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("tp1")).unwrap();
        std::fs::copy(source.join("meta.yaml"), dir.join("meta.yaml")).unwrap();
        std::fs::copy(source.join("tp1/per_sequence.csv"), dir.join("tp1/per_sequence.csv")).unwrap();
        std::fs::write(dir.join("tp1/dense.csv"), &dense).unwrap();
        std::fs::write(dir.join("tp1/attention.csv"), &attention).unwrap();
        match load(&dir, "llama-3.1-8b", 1) {
            Ok(model) => {
                let step = model.step_fs(&StepShape::decode(4, 400));
                proptest::prop_assert!(step >= 0);
            }
            Err(error) => {
                let text = error.to_string();
                proptest::prop_assert!(text.contains(dir.to_str().unwrap()), "{}", text);
            }
        }
    }
}

/// An operator of another architecture (Qwen3's `q_norm`, say) is a per-layer cost like
/// the others: 10 µs per call at every token count adds 32 × 10 µs to a step.
#[test]
fn an_operator_of_another_architecture_is_counted_per_layer() {
    let Some(dir) = broken_copy("extra-op", |dir| {
        rewrite(&dir.join("tp1/dense.csv"), |t| {
            format!("{t}q_norm,1,10\nq_norm,4096,10\n")
        })
    }) else {
        return;
    };
    let Some(plain) = profile_dir() else { return };
    let shape = StepShape::decode(8, 8000);
    let added = load(&dir, "llama-3.1-8b", 1).unwrap().step_fs(&shape)
        - load(&plain, "llama-3.1-8b", 1).unwrap().step_fs(&shape);
    assert_eq!(added, 320 * 1_000_000_000, "32 layers x 10 µs in fs");
}

/// The layout newer profiler releases write (LLMServingSim's `profiler/perf/`
/// RTXPRO6000 bundles): `attention.csv` with `layer`, `prefill_key` (the chunk's
/// query-weighted key length, `kv_prefill + prefill_chunk / 2`) and `decode_q_len`
/// columns; `hf_overrides` recording a tensor-parallel rank's shapes (the catalog's ÷
/// 2) with `tp_degrees: [1, 2]`. The shared profile rewritten that way gives the same
/// step times; rows of other kernels or multi-token decodes are not attention of a
/// plain step, and a shape that is no profiled degree's is still refused.
#[test]
fn the_newer_profile_layout_reads_the_same() {
    let Some(plain) = profile_dir() else { return };
    let newer = |name: &str, heads: &'static str| {
        broken_copy(name, move |dir| {
            rewrite(&dir.join("meta.yaml"), |t| {
                t.replace("tp_degrees: [1]", "tp_degrees: [1, 2]")
                    .replace("num_attention_heads: 32", heads)
                    .replace("num_key_value_heads: 8", "num_key_value_heads: 4")
                    .replace("vocab_size: 128256", "vocab_size: 64128")
            });
            rewrite(&dir.join("tp1/attention.csv"), |t| {
                let mut out = String::from(
                    "layer,prefill_chunk,prefill_key,n_decode,kv_decode,decode_q_len,time_us\n",
                );
                for line in t.lines().skip(1) {
                    let f: Vec<f64> = line.split(',').map(|v| v.parse().unwrap()).collect();
                    let key = f[1] + f[0] / 2.0;
                    out += &format!("attention,{},{key},{},{},1,{}\n", f[0], f[2], f[3], f[4]);
                }
                out + "attention,0,0,4,1024,2,99999\nindexer,0,0,4,1024,1,99999\n"
            });
        })
    };
    let Some(dir) = newer("newer", "num_attention_heads: 16") else {
        return;
    };
    let (before, after) = (
        load(&plain, "llama-3.1-8b", 1).unwrap(),
        load(&dir, "llama-3.1-8b", 1).unwrap(),
    );
    assert_eq!(before.fit_report(), after.fit_report());
    for shape in [
        StepShape::decode(1, 100),
        StepShape::decode(64, 64_000),
        StepShape {
            tokens: 512 + 8,
            seqs: 9,
            kv_read_tokens: 1_024 + 8_000,
            attention_pairs: 512 * 512 + 512 * 513 / 2 + 8_000,
            decode_seqs: 8,
            decode_context: 8_000,
        },
    ] {
        assert_eq!(before.step_fs(&shape), after.step_fs(&shape), "{shape:?}");
    }
    let quartered = newer("quartered", "num_attention_heads: 8").unwrap();
    let error = load(&quartered, "llama-3.1-8b", 1).unwrap_err().to_string();
    assert!(error.contains("num_attention_heads is 8"), "{error}");
    // A `tp<N>` folder the meta's list misses is still a profiled degree.
    let later = broken_copy("later-tp", tp1_as_tp2).unwrap();
    load(&later, "llama-3.1-8b", 2).unwrap();
}

/// Expert parallelism on the profile path (synthetic Mixtral-shaped profile, as above):
/// `moe.csv` rows are read at the engine's expert-parallel degree, two data-parallel
/// ranks with `enable_expert_parallel` reading the `ep = 2` rows for both ranks' tokens
/// with the experts of their half; the exchange of the tokens is added; a degree the
/// file does not have is refused naming the ones it has.
#[test]
fn an_expert_parallel_engine_reads_its_degrees_rows() {
    let rows = "ep,tokens,activated_experts,time_us\n\
                1,1,1,100\n1,1,8,800\n1,2,1,110\n1,2,8,880\n1,1024,1,1000\n1,1024,8,8000\n\
                2,1,1,50\n2,1,4,400\n2,2,1,55\n2,2,4,440\n2,1024,1,500\n2,1024,4,4000\n";
    let Some(dir) = broken_copy("moe-ep", |dir| {
        as_mixtral(dir);
        std::fs::write(dir.join("tp1/moe.csv"), rows).unwrap();
    }) else {
        return;
    };
    let catalog = Catalog::builtin();
    let (gpu, model) = (
        catalog.gpu("rtx-4090").unwrap(),
        catalog.model("mixtral-8x7b").unwrap(),
    );
    let at = |parallelism| ProfileModel::load(&dir, gpu, model, parallelism, &catalog.defaults);
    let two = simulator::perf::Parallelism {
        tensor: 1,
        data: 2,
        expert: true,
    };
    let alone = at(simulator::perf::Parallelism::tensor(1)).unwrap();
    let ranked = at(two).unwrap();
    // One decode per rank: alone, 2 of 8 experts at 1 token, 200 µs per layer (as in
    // the test above); with two ranks, their 2 tokens activate 3.5 experts, 1.75 of
    // this rank's 4: 55 + (440 − 55) × 0.75 / 3 = 151.25 µs per layer.
    let shape = StepShape::decode(1, 100);
    let (per_step, per_token) =
        simulator::perf::communication_seconds(gpu, model, &catalog.defaults, two);
    let exchange_us = (per_step + per_token) * 1e6;
    let difference_us = (ranked.step_fs(&shape) - alone.step_fs(&shape)) as f64 / 1e9;
    let expected_us = 32.0 * (151.25 - 200.0) + exchange_us;
    assert!(
        (difference_us - expected_us).abs() < 0.01,
        "{difference_us} vs {expected_us}"
    );
    let run = ranked.decode_run(4, 400);
    let stepwise: Fs = (0..6u64)
        .map(|j| ranked.step_fs(&StepShape::decode(4, 400 + 4 * j)))
        .sum();
    assert_eq!(run.time_fs(6), stepwise);
    // Four ranks: no `ep = 4` rows.
    let error = at(simulator::perf::Parallelism { data: 4, ..two })
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("tp1/moe.csv: no rows at expert parallelism 4")
            && error.contains("profiled: 1, 2"),
        "{error}"
    );
    // A file without the column is all degree 1.
    let legacy = broken_copy("moe-legacy", |dir| {
        as_mixtral(dir);
        std::fs::write(
            dir.join("tp1/moe.csv"),
            "tokens,activated_experts,time_us\n1,1,100\n1,8,800\n",
        )
        .unwrap();
    })
    .unwrap();
    let error = ProfileModel::load(&legacy, gpu, model, two, &catalog.defaults)
        .unwrap_err()
        .to_string();
    assert!(error.contains("profiled: 1"), "{error}");
}

/// A tree of profiles (the layout of `../shared/data/gpu-profiles` and LLMServingSim's
/// `profiler/perf/`): the one naming the GPU, the model and the dtype is found; none
/// or two are errors saying what is there.
#[test]
fn the_profile_of_a_gpu_and_model_is_found_in_a_tree() {
    let Some(dir) = profile_dir() else { return };
    let root = shared().join("gpu-profiles");
    let catalog = Catalog::builtin();
    let model = catalog.model("llama-3.1-8b").unwrap();
    let find = |gpu: &str, model, dtype| {
        simulator::perf::profile::find(&root, &catalog, catalog.gpu(gpu).unwrap(), model, dtype)
    };
    let found = find("rtx-4090", model, "bfloat16").unwrap();
    assert_eq!(found.canonicalize().unwrap(), dir.canonicalize().unwrap());
    assert!(
        find("rtx-4090", model, "auto").is_ok(),
        "an unknown dtype matches any"
    );
    for error in [
        find("rtx-pro-6000-server", model, "bfloat16"),
        find("rtx-4090", model, "float16"),
        find("rtx-4090", catalog.model("qwen3-32b").unwrap(), "bfloat16"),
    ] {
        let error = error.unwrap_err().to_string();
        assert!(
            error.contains("no operator profile of")
                && error.contains("meta-llama/Llama-3.1-8B on NVIDIA GeForce RTX 4090 bf16"),
            "{error}"
        );
    }
    // Two copies of the same profile: which one is meant is the user's to say.
    let twice =
        std::env::temp_dir().join(format!("budscaler-profile-twice-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&twice);
    for copy in ["a", "b"] {
        let target = twice.join(copy);
        std::fs::create_dir_all(&target).unwrap();
        std::fs::copy(dir.join("meta.yaml"), target.join("meta.yaml")).unwrap();
    }
    let error = simulator::perf::profile::find(
        &twice,
        &catalog,
        catalog.gpu("rtx-4090").unwrap(),
        model,
        "bfloat16",
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("more than one profile"), "{error}");
}
