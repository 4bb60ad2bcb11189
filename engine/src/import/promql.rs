//! The few PromQL shapes an imported trigger may use, recognised and nothing more.
//!
//! A KEDA `prometheus` trigger's `query` must come down to one number for the
//! workload. We recognise:
//! - `sum(METRIC{...})`, `avg(METRIC{...})`, `max(METRIC{...})`: an aggregation of a
//!   gauge over the pods' series;
//! - `sum(rate(COUNTER{...}[W]))` (and `irate`): the workload's total per-second rate.
//!
//! Label matchers are kept as text: the simulated workload is the one deployment the
//! query selects, so the importer reads the metric from every pod of the scaled target.
//! Anything else (grouping, arithmetic, offsets, functions other than `rate`/`irate`,
//! nested aggregations, a bare selector) is refused with a reason; the caller adds the
//! field path.

/// How the series are aggregated across pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregation {
    Sum,
    Avg,
    Max,
}

impl Aggregation {
    pub fn as_str(self) -> &'static str {
        match self {
            Aggregation::Sum => "sum",
            Aggregation::Avg => "avg",
            Aggregation::Max => "max",
        }
    }
}

/// A recognised query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub aggregation: Aggregation,
    /// The metric name (`vllm:num_requests_waiting`).
    pub metric: String,
    /// The label matchers as written (`model_name="llama"`), in order.
    pub matchers: Vec<String>,
    /// `Some(window)` for `rate(COUNTER[window])` / `irate(...)`.
    pub rate_window: Option<String>,
}

/// Recognises `text`, or says why not.
pub fn parse(text: &str) -> Result<Query, String> {
    let mut p = Parser {
        chars: text.chars().collect(),
        at: 0,
    };
    let query = p.query()?;
    p.skip_space();
    if p.at < p.chars.len() {
        return Err(format!(
            "unexpected `{}` after the aggregation: only a single sum/avg/max(...) is understood",
            p.rest()
        ));
    }
    Ok(query)
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn rest(&self) -> String {
        self.chars[self.at..].iter().collect()
    }

    fn skip_space(&mut self) {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_space();
        self.chars.get(self.at).copied()
    }

    fn expect(&mut self, want: char) -> Result<(), String> {
        match self.peek() {
            Some(c) if c == want => {
                self.at += 1;
                Ok(())
            }
            Some(c) => Err(format!("expected `{want}`, found `{c}`")),
            None => Err(format!("expected `{want}`, found the end of the query")),
        }
    }

    /// A metric name or a function/aggregation word (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
    fn word(&mut self) -> Option<String> {
        self.skip_space();
        let start = self.at;
        while let Some(&c) = self.chars.get(self.at) {
            let ok = c.is_ascii_alphabetic()
                || c == '_'
                || c == ':'
                || (self.at > start && c.is_ascii_digit());
            if !ok {
                break;
            }
            self.at += 1;
        }
        (self.at > start).then(|| self.chars[start..self.at].iter().collect())
    }

    fn query(&mut self) -> Result<Query, String> {
        let Some(word) = self.word() else {
            return Err("expected sum(...), avg(...) or max(...)".to_string());
        };
        let aggregation = match word.as_str() {
            "sum" => Aggregation::Sum,
            "avg" => Aggregation::Avg,
            "max" => Aggregation::Max,
            _ if self.peek() == Some('(') => {
                return Err(format!(
                    "`{word}(...)` at the top: only sum/avg/max(METRIC) and sum(rate(COUNTER[w])) are understood"
                ));
            }
            _ => {
                return Err(format!(
                    "a bare selector `{word}` gives one series per pod; wrap it in sum(...) or avg(...)"
                ));
            }
        };
        if let Some(word) = self.word() {
            return Err(format!(
                "`{} {word} (...)`: grouping gives several series; the scaler needs one value",
                aggregation.as_str()
            ));
        }
        self.expect('(')?;
        let checkpoint = self.at;
        let inner = self.word();
        let query = match inner.as_deref() {
            Some(function @ ("rate" | "irate")) if self.peek() == Some('(') => {
                if aggregation != Aggregation::Sum {
                    return Err(format!(
                        "`{}({function}(...))`: only sum({function}(...)) is understood",
                        aggregation.as_str()
                    ));
                }
                self.expect('(')?;
                let (metric, matchers) = self.selector()?;
                self.expect('[')?;
                let start = self.at;
                while self.chars.get(self.at).is_some_and(|&c| c != ']') {
                    self.at += 1;
                }
                let window: String = self.chars[start..self.at].iter().collect();
                self.expect(']')?;
                self.expect(')')?;
                Query {
                    aggregation,
                    metric,
                    matchers,
                    rate_window: Some(window.trim().to_string()),
                }
            }
            Some(function) if self.peek() == Some('(') => {
                return Err(format!(
                    "`{function}(...)` inside {}(...): only a selector or rate(COUNTER[w]) is understood",
                    aggregation.as_str()
                ));
            }
            _ => {
                self.at = checkpoint;
                let (metric, matchers) = self.selector()?;
                Query {
                    aggregation,
                    metric,
                    matchers,
                    rate_window: None,
                }
            }
        };
        if self.peek() == Some('[') {
            return Err("a range selector needs rate(...) around it".to_string());
        }
        self.expect(')')?;
        if let Some(word) = self.word() {
            return Err(format!(
                "`{word}` after the aggregation: grouping or modifiers are not understood"
            ));
        }
        Ok(query)
    }

    /// `name{matchers}` or `name`.
    fn selector(&mut self) -> Result<(String, Vec<String>), String> {
        let Some(metric) = self.word() else {
            return Err(format!(
                "expected a metric name, found `{}`",
                self.rest().trim()
            ));
        };
        if matches!(metric.as_str(), "offset" | "by" | "without" | "bool") {
            return Err(format!("`{metric}` is not understood"));
        }
        let mut matchers = Vec::new();
        if self.peek() == Some('{') {
            self.at += 1;
            loop {
                if self.peek() == Some('}') {
                    self.at += 1;
                    break;
                }
                let Some(label) = self.word() else {
                    return Err(format!("expected a label name, found `{}`", self.rest()));
                };
                self.skip_space();
                let start = self.at;
                while self
                    .chars
                    .get(self.at)
                    .is_some_and(|c| matches!(c, '=' | '!' | '~'))
                {
                    self.at += 1;
                }
                let op: String = self.chars[start..self.at].iter().collect();
                if !matches!(op.as_str(), "=" | "!=" | "=~" | "!~") {
                    return Err(format!("expected a label matcher operator after `{label}`"));
                }
                self.expect('"')?;
                let start = self.at;
                while let Some(&c) = self.chars.get(self.at) {
                    if c == '\\' {
                        self.at += 2;
                        continue;
                    }
                    if c == '"' {
                        break;
                    }
                    self.at += 1;
                }
                let value: String = self.chars[start..self.at.min(self.chars.len())]
                    .iter()
                    .collect();
                self.expect('"')?;
                matchers.push(format!("{label}{op}\"{value}\""));
                match self.peek() {
                    Some(',') => self.at += 1,
                    Some('}') => {}
                    _ => return Err("expected `,` or `}` in the label matchers".to_string()),
                }
            }
        }
        if self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            let checkpoint = self.at;
            if let Some(word) = self.word() {
                return Err(format!("`{word}` after a selector is not understood"));
            }
            self.at = checkpoint;
        }
        Ok((metric, matchers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_aggregations_of_gauges_and_rates_of_counters() {
        let q = parse(r#"sum(vllm:num_requests_waiting{model_name="llama", namespace=~"prod.*"})"#)
            .unwrap();
        assert_eq!(q.aggregation, Aggregation::Sum);
        assert_eq!(q.metric, "vllm:num_requests_waiting");
        assert_eq!(
            q.matchers,
            [r#"model_name="llama""#, r#"namespace=~"prod.*""#]
        );
        assert_eq!(q.rate_window, None);
        let q = parse("avg( vllm:kv_cache_usage_perc )").unwrap();
        assert_eq!(
            (q.aggregation, q.metric.as_str()),
            (Aggregation::Avg, "vllm:kv_cache_usage_perc")
        );
        let q = parse(r#"sum(rate(vllm:request_success_total{job="x"}[2m]))"#).unwrap();
        assert_eq!(q.metric, "vllm:request_success_total");
        assert_eq!(q.rate_window.as_deref(), Some("2m"));
        assert_eq!(parse("max(queue)").unwrap().aggregation, Aggregation::Max);
    }

    #[test]
    fn refuses_everything_else_with_a_reason() {
        for (query, says) in [
            ("vllm:num_requests_waiting", "bare selector"),
            ("sum by (pod) (vllm:num_requests_waiting)", "grouping"),
            ("sum(vllm:num_requests_waiting) by (pod)", "grouping"),
            ("sum(vllm:num_requests_waiting) / 2", "unexpected"),
            (
                "histogram_quantile(0.9, sum(rate(x_bucket[1m])) by (le))",
                "histogram_quantile",
            ),
            ("avg(rate(x_total[1m]))", "only sum(rate"),
            ("sum(increase(x_total[1m]))", "increase"),
            ("sum(x[1m])", "range selector"),
            ("sum(x offset 5m)", "offset"),
            ("sum(", "expected a metric name"),
        ] {
            let error = parse(query).unwrap_err();
            assert!(error.contains(says), "{query}: {error}");
        }
    }
}
