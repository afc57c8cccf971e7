//! The longest chain of dependent requests in an emulator request log.
//!
//! Each log entry gives the time its response was produced (RFC 3339, the end) and how long it
//! took; its start is end − duration. Request `b` depends on `a` (may have needed its answer)
//! when `a` ended before `b` started. The longest chain in that interval order is the least
//! number of round trips any client could have made the run in, given which requests it made:
//! with a fixed latency L on every request, no run can take less than chain × L.

use aci_cmk_emulator::LogEntry;
use serde_json::{Value, json};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// One request, in milliseconds since the start of the timed run.
#[derive(Clone, Debug)]
pub struct Req {
    /// Start (end − duration).
    pub start: f64,
    /// End.
    pub end: f64,
    /// `arm`, `graph`, `keyvault`, `token`, `msi`.
    pub service: String,
    /// `METHOD path`.
    pub what: String,
    /// Response status.
    pub status: u16,
}

impl Req {
    /// How long the server took.
    pub fn duration(&self) -> f64 {
        self.end - self.start
    }

    fn label(&self) -> String {
        format!("{} {} ({})", self.service, self.what, self.status)
    }
}

/// The log's requests relative to `t0`, sorted by end.
pub fn requests(entries: &[LogEntry], t0: OffsetDateTime) -> Result<Vec<Req>, String> {
    let mut reqs = entries
        .iter()
        .map(|e| {
            let end = OffsetDateTime::parse(&e.time, &Rfc3339)
                .map_err(|err| format!("log time {:?}: {err}", e.time))?;
            let end = (end - t0).as_seconds_f64() * 1000.0;
            Ok(Req {
                start: end - e.duration_ms,
                end,
                service: e.service.clone(),
                what: format!("{} {}", e.method, shorten(&e.path)),
                status: e.status,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    reqs.sort_by(|a, b| a.end.total_cmp(&b.end));
    Ok(reqs)
}

/// The path without the subscription and resource-group prefix, for reading.
fn shorten(path: &str) -> String {
    let lower = path.to_ascii_lowercase();
    if let Some(i) = lower.find("/providers/") {
        return format!("…{}", &path[i..]);
    }
    path.to_owned()
}

/// The longest chain: its members (indices into the sorted requests), in order.
#[derive(Debug)]
pub struct Chain {
    /// Indices of the chain's requests, first to last.
    pub members: Vec<usize>,
}

/// The longest chain in the interval order (ties broken by the longer server time), by dynamic
/// programming over the requests sorted by end time.
pub fn longest_chain(reqs: &[Req]) -> Chain {
    // (length, server time along the chain, predecessor)
    let mut best: Vec<(usize, f64, Option<usize>)> = Vec::with_capacity(reqs.len());
    for (b, rb) in reqs.iter().enumerate() {
        let mut pick: (usize, f64, Option<usize>) = (1, rb.duration(), None);
        for (a, ra) in reqs.iter().enumerate().take(b) {
            if ra.end <= rb.start {
                let (len, busy, _) = best[a];
                let candidate = (len + 1, busy + rb.duration(), Some(a));
                if candidate.0 > pick.0 || (candidate.0 == pick.0 && candidate.1 > pick.1) {
                    pick = candidate;
                }
            }
        }
        best.push(pick);
    }
    let mut last = None;
    for (i, b) in best.iter().enumerate() {
        let better = match last {
            None => true,
            Some(j) => {
                let o: &(usize, f64, Option<usize>) = &best[j];
                b.0 > o.0 || (b.0 == o.0 && b.1 > o.1)
            }
        };
        if better {
            last = Some(i);
        }
    }
    let mut members = Vec::new();
    while let Some(i) = last {
        members.push(i);
        last = best[i].2;
    }
    members.reverse();
    Chain { members }
}

/// Where the time of a run went along its longest chain: the server's time on each request
/// (latency L plus its own work) and the gaps between them, where no request of the chain was
/// at the server (the client's time: building requests, awaiting, connecting, parsing).
pub fn breakdown(reqs: &[Req], chain: &Chain, wall_ms: f64, latency_ms: f64) -> Value {
    let mut gaps = Vec::new();
    let mut prev_end = 0.0;
    let mut prev_label = "start of the run".to_owned();
    let mut server_ms = 0.0;
    let mut gap_ms = 0.0;
    for &i in &chain.members {
        let r = &reqs[i];
        let gap = r.start - prev_end;
        gap_ms += gap;
        gaps.push(json!({
            "after": prev_label,
            "before": r.label(),
            "gap_ms": crate::report::r3(gap),
        }));
        server_ms += r.duration();
        prev_end = r.end;
        prev_label = r.label();
    }
    let tail = wall_ms - prev_end;
    gap_ms += tail;
    gaps.push(
        json!({"after": prev_label, "before": "end of the run", "gap_ms": crate::report::r3(tail)}),
    );
    let chain_len = chain.members.len() as f64;
    json!({
        "chain": chain.members.iter().map(|&i| {
            let r = &reqs[i];
            json!({"request": r.label(), "start_ms": crate::report::r3(r.start), "duration_ms": crate::report::r3(r.duration())})
        }).collect::<Vec<_>>(),
        "server_time_on_chain_ms": crate::report::r3(server_ms),
        "server_work_beyond_latency_ms": crate::report::r3(server_ms - chain_len * latency_ms),
        "client_gaps_total_ms": crate::report::r3(gap_ms),
        "gaps": gaps,
    })
}

/// The largest gaps of a breakdown, as one line.
pub fn largest_gaps(breakdown: &Value, n: usize) -> String {
    let mut gaps: Vec<(f64, String)> = breakdown["gaps"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|g| {
                    (
                        g["gap_ms"].as_f64().unwrap_or(0.0),
                        format!(
                            "{:.1} ms before {}",
                            g["gap_ms"].as_f64().unwrap_or(0.0),
                            g["before"].as_str().unwrap_or("?")
                        ),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    gaps.sort_by(|a, b| b.0.total_cmp(&a.0));
    gaps.into_iter()
        .take(n)
        .map(|g| g.1)
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(start: f64, end: f64) -> Req {
        Req {
            start,
            end,
            service: "arm".into(),
            what: "GET /".into(),
            status: 200,
        }
    }

    #[test]
    fn chain_of_intervals() {
        // a [0,50] -> b [55,105] -> d [110,160]; c [0,120] overlaps b; e [60,100] parallel.
        let mut reqs = vec![
            req(0.0, 50.0),
            req(55.0, 105.0),
            req(0.0, 120.0),
            req(110.0, 160.0),
            req(60.0, 100.0),
        ];
        reqs.sort_by(|a, b| a.end.total_cmp(&b.end));
        let chain = longest_chain(&reqs);
        assert_eq!(chain.members.len(), 3);
        let b = breakdown(&reqs, &chain, 170.0, 50.0);
        assert_eq!(b["client_gaps_total_ms"].as_f64(), Some(20.0));
    }
}
