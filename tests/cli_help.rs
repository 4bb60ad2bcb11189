//! Every subcommand's `--help` ends with an example a user can copy.

use std::process::Command;

#[test]
fn every_subcommand_help_has_an_example() {
    for command in [
        &["simulate"][..],
        &["compare"],
        &["report"],
        &["sweep"],
        &["sweep", "merge"],
        &["conformance"],
        &["check-scaler"],
        &["crd"],
        &["replay-log"],
        &["validate-recording"],
        &["trace", "inspect"],
        &["trace", "convert"],
        &["trace", "generate"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_budscaler"))
            .args(command)
            .arg("--help")
            .output()
            .unwrap();
        assert!(output.status.success(), "{command:?}");
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            text.contains("Example"),
            "{command:?} --help has no example:\n{text}"
        );
        assert!(text.contains("budscaler "), "{command:?}");
    }
}
