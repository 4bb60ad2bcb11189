//! Format detection by content, and every kind of malformed input: each must give a
//! `FILE:LINE:` error saying what was expected and what was found, never a panic.

use std::io::Write;
use std::path::{Path, PathBuf};
use traces::{ColumnMapping, ReadOptions, Request, TraceError, TraceFormat, open};

/// A fresh temp folder per test (tests run in parallel).
fn temp(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("traces-formats-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn gzip(content: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(content).unwrap();
    encoder.finish().unwrap()
}

fn read_all(path: &Path, options: &ReadOptions) -> Result<Vec<Request>, TraceError> {
    open(path, options)?.collect()
}

/// Reads a file that must fail; returns the message.
fn error_of(path: &Path, options: &ReadOptions) -> String {
    match read_all(path, options) {
        Ok(requests) => panic!("expected an error, read {} requests", requests.len()),
        Err(error) => error.to_string(),
    }
}

const AZURE: &str = "TIMESTAMP,ContextTokens,GeneratedTokens\n\
2023-11-16 18:15:46.6805900,374,44\n\
2023-11-16 18:15:50.9951690,396,109\n";

#[test]
fn azure_is_detected_by_header_whatever_the_name() {
    let dir = temp("azure");
    let path = write(&dir, "trace.txt", AZURE.as_bytes());
    let reader = open(&path, &ReadOptions::default()).unwrap();
    assert_eq!(reader.format(), TraceFormat::AzureLlm2023);
    assert_eq!(
        reader.start_iso().as_deref(),
        Some("2023-11-16T18:15:46.680590Z")
    );
    let requests: Vec<Request> = reader.map(Result::unwrap).collect();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].arrival_us, 4_314_579);
    assert_eq!(
        (requests[1].prompt_tokens, requests[1].output_tokens),
        (396, 109)
    );
}

#[test]
fn gzip_is_detected_by_magic_bytes() {
    let dir = temp("gzip");
    for name in ["trace.csv.gz", "trace.csv"] {
        let path = write(&dir, name, &gzip(AZURE.as_bytes()));
        let requests = read_all(&path, &ReadOptions::default()).unwrap();
        assert_eq!(requests.len(), 2, "{name}");
    }
}

#[test]
fn burstgpt_keeps_failed_rows_flagged() {
    let dir = temp("burstgpt");
    let path = write(
        &dir,
        "b.csv",
        b"Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n\
5,ChatGPT,472,18,490,Conversation log\n\
45.5,GPT-4,1087,0,1087,API log\n",
    );
    let reader = open(&path, &ReadOptions::default()).unwrap();
    assert_eq!(reader.format(), TraceFormat::BurstGpt);
    assert_eq!(reader.start_epoch_us(), None);
    let requests: Vec<Request> = reader.map(Result::unwrap).collect();
    assert_eq!(requests[0].arrival_us, 5_000_000);
    assert_eq!(requests[1].arrival_us, 45_500_000);
    assert!(!requests[0].failed && requests[1].failed);
    assert_eq!(requests[1].model.as_deref(), Some("GPT-4"));
    assert_eq!(requests[1].tenant.as_deref(), Some("API log"));
}

#[test]
fn mooncake_is_detected_by_keys_even_named_csv() {
    let dir = temp("mooncake");
    let path = write(
        &dir,
        "m.csv",
        b"{\"timestamp\": 0, \"input_length\": 600, \"output_length\": 6, \"hash_ids\": [0, 1]}\n\n\
{\"timestamp\": 27, \"input_length\": 10, \"output_length\": 2, \"hash_ids\": []}\n",
    );
    let reader = open(&path, &ReadOptions::default()).unwrap();
    assert_eq!(reader.format(), TraceFormat::Mooncake);
    let requests: Vec<Request> = reader.map(Result::unwrap).collect();
    assert_eq!(requests[0].prefix_blocks, vec![0, 1]);
    assert_eq!(requests[1].arrival_us, 27_000);
}

#[test]
fn vllm_requests_are_relative_to_the_first_arrival() {
    let dir = temp("vllm");
    let path = write(
        &dir,
        "requests.jsonl",
        b"{\"request_id\": \"a\", \"input_toks\": 5, \"output_toks\": 3, \"arrival_time\": 1700000000.5}\n\
{\"request_id\": \"b\", \"input_toks\": 6, \"output_toks\": 4, \"arrival_time\": 1700000001.25}\n",
    );
    let reader = open(&path, &ReadOptions::default()).unwrap();
    assert_eq!(reader.format(), TraceFormat::VllmRecording);
    assert_eq!(
        reader.start_iso().as_deref(),
        Some("2023-11-14T22:13:20.500000Z")
    );
    let requests: Vec<Request> = reader.map(Result::unwrap).collect();
    assert_eq!(requests[1].arrival_us, 750_000);
}

#[test]
fn canonical_csv_and_jsonl_are_detected() {
    let dir = temp("canonical");
    let csv = write(
        &dir,
        "c.csv",
        b"arrival_us,prompt_tokens,output_tokens,prefix_blocks,tenant,model,priority,failed\n\
0,10,5,1 2 3,acme,,-1,false\n7,1,1,,,m,,true\n",
    );
    let requests = read_all(&csv, &ReadOptions::default()).unwrap();
    assert_eq!(requests[0].prefix_blocks, vec![1, 2, 3]);
    assert_eq!(requests[0].tenant.as_deref(), Some("acme"));
    assert_eq!(requests[0].model, None);
    assert_eq!(requests[0].priority, Some(-1));
    assert!(requests[1].failed);
    let jsonl = write(
        &dir,
        "c.jsonl",
        b"{\"arrival_us\": 3, \"prompt_tokens\": 1, \"output_tokens\": 2, \"prefix_blocks\": [9]}\n",
    );
    let reader = open(&jsonl, &ReadOptions::default()).unwrap();
    assert_eq!(reader.format(), TraceFormat::Canonical);
    let requests: Vec<Request> = reader.map(Result::unwrap).collect();
    assert_eq!(
        (requests[0].arrival_us, requests[0].prefix_blocks.clone()),
        (3, vec![9])
    );
}

#[test]
fn generic_csv_and_jsonl_through_a_mapping() {
    let dir = temp("generic");
    let mapping: ColumnMapping = "arrival=ts,prompt=in,output=out,arrival_unit=ms,tenant=who"
        .parse()
        .unwrap();
    let options = ReadOptions {
        columns: Some(mapping),
        ..ReadOptions::default()
    };
    let csv = write(
        &dir,
        "g.csv",
        b"who,ts,in,out\nx,1500,10,20\ny,2000.5,11,21\n",
    );
    let reader = open(&csv, &options).unwrap();
    assert_eq!(reader.format(), TraceFormat::Generic);
    let requests: Vec<Request> = reader.map(Result::unwrap).collect();
    assert_eq!(requests[0].arrival_us, 1_500_000);
    assert_eq!(requests[1].arrival_us, 2_000_500);
    assert_eq!(requests[1].tenant.as_deref(), Some("y"));
    let jsonl = write(&dir, "g.jsonl", b"{\"ts\": 5, \"in\": \"7\", \"out\": 8}\n");
    let requests = read_all(&jsonl, &options).unwrap();
    assert_eq!(
        (requests[0].arrival_us, requests[0].prompt_tokens),
        (5_000, 7)
    );

    let epoch: ColumnMapping = "arrival=t,prompt=p,output=o,arrival_unit=epoch_s"
        .parse()
        .unwrap();
    let path = write(&dir, "e.csv", b"t,p,o\n1700000000,1,1\n1700000002.5,1,1\n");
    let options = ReadOptions {
        columns: Some(epoch),
        ..ReadOptions::default()
    };
    let reader = open(&path, &options).unwrap();
    assert_eq!(
        reader.start_iso().as_deref(),
        Some("2023-11-14T22:13:20.000000Z")
    );
    let last = reader.last().unwrap().unwrap();
    assert_eq!(last.arrival_us, 2_500_000);

    let datetime: ColumnMapping = "arrival=when,prompt=p,output=o,arrival_unit=datetime"
        .parse()
        .unwrap();
    let path = write(
        &dir,
        "d.csv",
        b"when,p,o\n2024-05-10T00:00:00Z,1,1\n2024-05-10T00:00:01.25Z,1,1\n",
    );
    let options = ReadOptions {
        columns: Some(datetime),
        ..ReadOptions::default()
    };
    let requests = read_all(&path, &options).unwrap();
    assert_eq!(requests[1].arrival_us, 1_250_000);
}

#[test]
fn a_mapping_overrides_detection() {
    let dir = temp("override");
    let path = write(&dir, "a.csv", AZURE.as_bytes());
    let mapping: ColumnMapping =
        "arrival=TIMESTAMP,prompt=GeneratedTokens,output=ContextTokens,arrival_unit=datetime"
            .parse()
            .unwrap();
    let options = ReadOptions {
        columns: Some(mapping),
        ..ReadOptions::default()
    };
    let reader = open(&path, &options).unwrap();
    assert_eq!(reader.format(), TraceFormat::Generic);
    let first = reader.into_iter().next().unwrap().unwrap();
    assert_eq!((first.prompt_tokens, first.output_tokens), (44, 374));
}

#[test]
fn a_forced_format_must_match_the_content() {
    let dir = temp("forced");
    let path = write(&dir, "a.csv", AZURE.as_bytes());
    let options = ReadOptions {
        format: Some(TraceFormat::BurstGpt),
        ..ReadOptions::default()
    };
    let error = error_of(&path, &options);
    assert!(
        error.contains("a.csv:1: expected a burstgpt trace"),
        "{error}"
    );
    let generic = ReadOptions {
        format: Some(TraceFormat::Generic),
        ..ReadOptions::default()
    };
    assert!(error_of(&path, &generic).contains("--columns"));
}

#[test]
fn wrong_type_names_file_line_column_and_value() {
    let dir = temp("wrong-type");
    let path = write(
        &dir,
        "data.csv",
        b"TIMESTAMP,ContextTokens,GeneratedTokens\n\
2023-11-16 18:15:46.6805900,374,44\n\
2023-11-16 18:15:47.0000000,abc,44\n",
    );
    let error = error_of(&path, &ReadOptions::default());
    assert!(
        error.ends_with(
            "data.csv:3: column ContextTokens: expected a non-negative integer, found \"abc\""
        ),
        "{error}"
    );
}

#[test]
fn missing_column_is_named() {
    let dir = temp("missing-column");
    let path = write(
        &dir,
        "a.csv",
        b"TIMESTAMP,ContextTokens\n2023-11-16 18:15:46.6805900,374\n",
    );
    let error = error_of(&path, &ReadOptions::default());
    assert!(
        error.contains("a.csv:1: expected a column GeneratedTokens, found header"),
        "{error}"
    );
    let mapping: ColumnMapping = "arrival=t,prompt=p,output=nope".parse().unwrap();
    let path = write(&dir, "g.csv", b"t,p,o\n1,1,1\n");
    let options = ReadOptions {
        columns: Some(mapping),
        ..ReadOptions::default()
    };
    assert!(error_of(&path, &options).contains("expected a column nope"));
    let path = write(&dir, "m.jsonl", b"{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 1}\n{\"timestamp\": 1, \"input_length\": 5}\n");
    let error = error_of(&path, &ReadOptions::default());
    assert!(
        error.contains(
            "m.jsonl:2: expected a column output_length, found keys [input_length, timestamp]"
        ),
        "{error}"
    );
}

#[test]
fn short_rows_name_the_missing_field() {
    let dir = temp("short");
    let path = write(
        &dir,
        "a.csv",
        b"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374\n",
    );
    let error = error_of(&path, &ReadOptions::default());
    assert!(error.contains("a.csv:2: column GeneratedTokens: expected a value, found \"nothing (the row has 2 fields)\""), "{error}");
}

#[test]
fn negative_absurd_and_nan_values_are_rejected() {
    let dir = temp("values");
    let header = "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n";
    let cases = [
        (
            "1,m,-5,1,1,x\n",
            "column Request tokens: expected a non-negative integer, found \"-5\"",
        ),
        (
            "1,m,10000001,1,1,x\n",
            "column Request tokens: expected a token count of at most 10000000, found \"10000001\"",
        ),
        (
            "NaN,m,1,1,1,x\n",
            "column Timestamp: expected seconds from the trace start, found \"NaN\"",
        ),
        (
            "1,m,nan,1,1,x\n",
            "column Request tokens: expected a non-negative integer, found \"nan\"",
        ),
        (
            "-1,m,1,1,1,x\n",
            "column arrival: expected a non-negative time from the trace start",
        ),
    ];
    for (row, expected) in cases {
        let path = write(&dir, "b.csv", format!("{header}{row}").as_bytes());
        let error = error_of(&path, &ReadOptions::default());
        assert!(error.contains(&format!("b.csv:2: {expected}")), "{error}");
    }
    let path = write(
        &dir,
        "m.jsonl",
        b"{\"timestamp\": 0, \"input_length\": -3, \"output_length\": 1}\n",
    );
    assert!(
        error_of(&path, &ReadOptions::default()).contains(
            "m.jsonl:1: column input_length: expected a non-negative integer, found \"-3\""
        )
    );
    let path = write(&dir, "m2.jsonl", b"{\"timestamp\": 0, \"input_length\": 3, \"output_length\": 1}\n{\"timestamp\": NaN, \"input_length\": 3, \"output_length\": 1}\n");
    assert!(
        error_of(&path, &ReadOptions::default())
            .contains("m2.jsonl:2: expected a JSON object, found invalid JSON")
    );
    let path = write(
        &dir,
        "c.csv",
        b"arrival_us,prompt_tokens,output_tokens\n-4,1,1\n",
    );
    assert!(
        error_of(&path, &ReadOptions::default())
            .contains("c.csv:2: column arrival_us: expected a non-negative integer")
    );
}

#[test]
fn bad_datetime_is_rejected() {
    let dir = temp("datetime");
    let path = write(
        &dir,
        "a.csv",
        b"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-02-30 18:15:46.6805900,374,44\n",
    );
    let error = error_of(&path, &ReadOptions::default());
    assert!(
        error.contains("a.csv:2: column TIMESTAMP: expected a datetime like"),
        "{error}"
    );
}

#[test]
fn truncated_gzip_is_named() {
    let dir = temp("truncated");
    let mut big = String::from("TIMESTAMP,ContextTokens,GeneratedTokens\n");
    for i in 0..20_000 {
        big.push_str(&format!(
            "2023-11-16 18:{:02}:{:02}.{:07},{},{}\n",
            i / 600 % 60,
            i / 10 % 60,
            i % 10 * 1000,
            i % 997,
            i % 89
        ));
    }
    let compressed = gzip(big.as_bytes());
    let path = write(&dir, "t.csv.gz", &compressed[..compressed.len() / 2]);
    let error = error_of(&path, &ReadOptions::default());
    assert!(
        error.contains("expected more gzip-compressed data, found a truncated gzip stream"),
        "{error}"
    );
    assert!(
        error.starts_with(&format!("{}:", path.display())),
        "{error}"
    );
    let tiny = write(&dir, "tiny.gz", &compressed[..5]);
    let error = error_of(&tiny, &ReadOptions::default());
    assert!(
        error.contains("tiny.gz:1: expected more gzip-compressed data"),
        "{error}"
    );
}

#[test]
fn empty_file_is_named() {
    let dir = temp("empty");
    for (name, content) in [("e.csv", &b""[..]), ("w.csv", &b"  \n"[..])] {
        let path = write(&dir, name, content);
        let error = error_of(&path, &ReadOptions::default());
        assert!(
            error.ends_with(&format!(
                "{name}:1: expected a header line or a first record, found an empty file"
            )),
            "{error}"
        );
    }
    let path = write(&dir, "g.gz", &gzip(b""));
    assert!(error_of(&path, &ReadOptions::default()).contains("found an empty file"));
    let path = write(
        &dir,
        "header-only.csv",
        AZURE.lines().next().unwrap().as_bytes(),
    );
    assert!(read_all(&path, &ReadOptions::default()).unwrap().is_empty());
}

#[test]
fn unknown_formats_are_named() {
    let dir = temp("unknown");
    let path = write(&dir, "u.csv", b"a,b,c\n1,2,3\n");
    let error = error_of(&path, &ReadOptions::default());
    assert!(
        error.contains("u.csv:1: expected a known trace format"),
        "{error}"
    );
    assert!(error.contains("found a CSV header \"a,b,c\""), "{error}");
    let path = write(&dir, "u.jsonl", b"{\"x\": 1}\n");
    assert!(error_of(&path, &ReadOptions::default()).contains("found a JSON object with keys [x]"));
    let path = write(&dir, "bin", &[0u8, 159, 146, 150, 255, 10, 1, 2]);
    assert!(error_of(&path, &ReadOptions::default()).contains("expected a known trace format"));
    let path = write(&dir, "arr.jsonl", b"[1, 2]\n");
    assert!(error_of(&path, &ReadOptions::default()).contains("expected a known trace format"));
    let missing = dir.join("does-not-exist.csv");
    assert!(error_of(&missing, &ReadOptions::default()).contains("expected a readable file"));
}

#[test]
fn out_of_order_rows_fail_unless_sorting_is_asked() {
    let dir = temp("order");
    let path = write(
        &dir,
        "o.csv",
        b"TIMESTAMP,ContextTokens,GeneratedTokens\n\
2023-11-16 18:15:46.0000000,1,1\n\
2023-11-16 18:15:48.0000000,2,2\n\
2023-11-16 18:15:47.0000000,3,3\n\
2023-11-16 18:15:45.0000000,4,4\n",
    );
    let error = error_of(&path, &ReadOptions::default());
    assert!(error.contains("o.csv:4: expected arrivals in non-decreasing time order (previous arrival at 2000000 us), found 1000000 us"), "{error}");
    let sorted = ReadOptions {
        sort: true,
        ..ReadOptions::default()
    };
    let reader = open(&path, &sorted).unwrap();
    assert_eq!(
        reader.start_iso().as_deref(),
        Some("2023-11-16T18:15:45.000000Z")
    );
    let requests: Vec<(i64, u32)> = reader
        .map(|r| r.unwrap())
        .map(|r| (r.arrival_us, r.prompt_tokens))
        .collect();
    assert_eq!(
        requests,
        vec![(0, 4), (1_000_000, 1), (2_000_000, 3), (3_000_000, 2)]
    );
    let jsonl = write(&dir, "o.jsonl", b"{\"timestamp\": 5, \"input_length\": 1, \"output_length\": 1}\n{\"timestamp\": 4, \"input_length\": 1, \"output_length\": 1}\n");
    assert!(
        error_of(&jsonl, &ReadOptions::default())
            .contains("o.jsonl:2: expected arrivals in non-decreasing")
    );
}

#[test]
fn quoted_csv_fields_and_crlf_are_read() {
    let dir = temp("quoted");
    let path = write(
        &dir,
        "q.csv",
        b"arrival_us,prompt_tokens,output_tokens,tenant\r\n0,1,1,\"a, b\"\r\n1,2,2,\"say \"\"hi\"\"\"\r\n",
    );
    let requests = read_all(&path, &ReadOptions::default()).unwrap();
    assert_eq!(requests[0].tenant.as_deref(), Some("a, b"));
    assert_eq!(requests[1].tenant.as_deref(), Some("say \"hi\""));
}

#[test]
fn the_reader_stops_after_an_error() {
    let dir = temp("stops");
    let path = write(
        &dir,
        "s.csv",
        b"arrival_us,prompt_tokens,output_tokens\n0,1,1\n1,x,1\n2,1,1\n",
    );
    let items: Vec<Result<Request, TraceError>> =
        open(&path, &ReadOptions::default()).unwrap().collect();
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok() && items[1].is_err());
    assert_eq!(items[1].as_ref().unwrap_err().line(), Some(3));
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_is_detected_and_read_through_a_mapping_and_truncation_is_named() {
    let dir = temp("parquet");
    let path = dir.join("t.parquet");
    let requests: Vec<Request> = (0..10)
        .map(|i| Request {
            arrival_us: i * 1000,
            prompt_tokens: 5,
            output_tokens: 7,
            prefix_blocks: vec![i as u64],
            tenant: None,
            model: Some("m".to_string()),
            priority: Some(1),
            failed: false,
        })
        .collect();
    traces::write_canonical(&path, requests.iter().cloned().map(Ok)).unwrap();
    let mapping: ColumnMapping =
        "arrival=arrival_us,prompt=output_tokens,output=prompt_tokens,arrival_unit=us"
            .parse()
            .unwrap();
    let options = ReadOptions {
        columns: Some(mapping),
        ..ReadOptions::default()
    };
    let reader = open(&path, &options).unwrap();
    assert_eq!(reader.format(), TraceFormat::Generic);
    let swapped: Vec<Request> = reader.map(Result::unwrap).collect();
    assert_eq!((swapped[9].arrival_us, swapped[9].prompt_tokens), (9000, 7));
    let bytes = std::fs::read(&path).unwrap();
    let cut = write(&dir, "cut.parquet", &bytes[..bytes.len() / 2]);
    let error = error_of(&cut, &ReadOptions::default());
    assert!(error.starts_with(&format!("{}:", cut.display())), "{error}");
}
