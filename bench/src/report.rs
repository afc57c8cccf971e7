//! Results: one JSON object per benchmark (every number, the targets and whether each was met)
//! and a plain table.

use serde::Serialize;
use serde_json::{Map, Value};

/// How a figure is compared with its target.
#[derive(Clone, Copy, Debug, Serialize)]
pub enum Cmp {
    /// The value must be at most the target.
    #[serde(rename = "<=")]
    AtMost,
    /// The value must be at least the target.
    #[serde(rename = ">=")]
    AtLeast,
    /// The value must equal the target.
    #[serde(rename = "==")]
    Equal,
}

/// A figure with a target.
#[derive(Clone, Debug, Serialize)]
pub struct Target {
    /// What is measured.
    pub name: String,
    /// The measured value.
    pub value: f64,
    /// How it is compared.
    pub cmp: Cmp,
    /// The target.
    pub target: f64,
    /// Whether the value meets the target.
    pub met: bool,
}

/// One benchmark's results.
#[derive(Debug, Serialize)]
pub struct Bench {
    /// Its name.
    pub name: String,
    /// Every number (and a few strings) it measured.
    pub metrics: Map<String, Value>,
    /// Its targets.
    pub targets: Vec<Target>,
    /// What limits a missed target, where the idle time went, what was chosen and why.
    pub notes: Vec<String>,
    /// Rows of the printed table: (figure, value).
    #[serde(skip)]
    rows: Vec<(String, String)>,
}

impl Bench {
    /// An empty benchmark result.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            metrics: Map::new(),
            targets: Vec::new(),
            notes: Vec::new(),
            rows: Vec::new(),
        }
    }

    /// Records a metric (in the JSON only).
    pub fn metric(&mut self, key: &str, value: impl Into<Value>) {
        self.metrics.insert(key.to_owned(), value.into());
    }

    /// Records a metric and shows it in the table as `shown`.
    pub fn shown(&mut self, key: &str, value: impl Into<Value>, shown: impl Into<String>) {
        self.metric(key, value);
        self.rows.push((key.to_owned(), shown.into()));
    }

    /// Records a figure with a target.
    pub fn target(&mut self, name: &str, value: f64, cmp: Cmp, target: f64) -> bool {
        let met = match cmp {
            Cmp::AtMost => value <= target,
            Cmp::AtLeast => value >= target,
            Cmp::Equal => (value - target).abs() < 1e-9,
        };
        self.targets.push(Target {
            name: name.to_owned(),
            value,
            cmp,
            target,
            met,
        });
        met
    }

    /// Adds a note.
    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// The rows of the printed table.
    pub fn table(&self) -> String {
        let mut out = format!("== {}\n", self.name);
        for (k, v) in &self.rows {
            out.push_str(&format!("  {k:<44} {v}\n"));
        }
        for t in &self.targets {
            let cmp = match t.cmp {
                Cmp::AtMost => "<=",
                Cmp::AtLeast => ">=",
                Cmp::Equal => "==",
            };
            out.push_str(&format!(
                "  {:<44} {:<12} target {cmp} {:<8} {}\n",
                t.name,
                fmt_num(t.value),
                fmt_num(t.target),
                if t.met { "MET" } else { "MISSED" }
            ));
        }
        for n in &self.notes {
            out.push_str(&format!("  note: {n}\n"));
        }
        out
    }
}

/// A number with at most 3 decimals, without trailing zeros.
pub fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// Milliseconds of a duration, as a float.
pub fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Rounds to 3 decimals (for JSON).
pub fn r3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}
