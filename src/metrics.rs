//! `/metrics`: what the service counts and how it is rendered in the Prometheus text
//! format. Recording is a few relaxed atomic increments into fixed arrays sized at start
//! (no allocation, no lock, no map lookup per request): requests by operation and Result
//! code or fault code, and a latency histogram per operation. The store's own counters
//! (commits, writes, batch sizes) live in [`DbStats`]; what lives in rows (job queue,
//! replies, collection outcomes) is read at scrape time by [`StoreFigures`], cached for
//! a few seconds so a scrape storm costs one read per interval. Rendering builds a
//! `prometheus-client` registry with one collector per scrape.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use crate::domain::result::ResultCode;
use crate::store::console::StoreFigures;
use crate::store::{BATCH_BUCKETS, DbStats};
use crate::wire::fault::FaultCode;

/// Operation slots: slot 0 is "no operation" (the request failed before one was known).
pub const MAX_OPERATIONS: usize = 48;

/// Upper bounds of the latency buckets, in microseconds.
pub const LATENCY_BUCKETS_US: [u64; 12] = [
    250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000, 5_000_000,
];

/// Highest Result code number the index table covers.
const MAX_RESULT_NUMBER: usize = 1000;

/// How long the store figures of one scrape are reused.
pub const STORE_FIGURES_TTL: Duration = Duration::from_secs(5);

/// The request counters of one operation.
#[derive(Debug)]
struct OperationSlot {
    /// One counter per Result code (in [`ResultCode::ALL`] order), then one per fault
    /// code (in [`FaultCode::ALL`] order).
    outcomes: Box<[AtomicU64]>,
    /// Latency histogram buckets (not cumulative), the last one for larger values.
    latency: [AtomicU64; LATENCY_BUCKETS_US.len() + 1],
    /// Sum of latencies in microseconds.
    latency_sum_us: AtomicU64,
}

/// The outcome of one request, for [`Metrics::record`].
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    /// A normal response carrying this Result code.
    Result(ResultCode),
    /// A SOAP fault with this code.
    Fault(FaultCode),
}

/// The service's request counters.
#[derive(Debug)]
pub struct Metrics {
    slots: Box<[OperationSlot]>,
    /// Result code number → index in [`ResultCode::ALL`] (`u16::MAX`: none).
    result_index: Box<[u16]>,
    /// The last store figures and when they were read.
    store_cache: std::sync::Mutex<Option<(Instant, StoreFigures)>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Empty counters.
    pub fn new() -> Metrics {
        let outcomes = ResultCode::ALL.len() + FaultCode::ALL.len();
        let slots = (0..MAX_OPERATIONS)
            .map(|_| OperationSlot {
                outcomes: (0..outcomes).map(|_| AtomicU64::new(0)).collect(),
                latency: std::array::from_fn(|_| AtomicU64::new(0)),
                latency_sum_us: AtomicU64::new(0),
            })
            .collect();
        let mut result_index = vec![u16::MAX; MAX_RESULT_NUMBER].into_boxed_slice();
        for (i, code) in ResultCode::ALL.iter().enumerate() {
            let number = *code as u16 as usize;
            if number < MAX_RESULT_NUMBER {
                result_index[number] = i as u16;
            }
        }
        Metrics {
            slots,
            result_index,
            store_cache: std::sync::Mutex::new(None),
        }
    }

    /// Counts one request: `operation` is the index of the operation in the list later
    /// given to [`Metrics::render`] plus one (0: no operation known).
    pub fn record(&self, operation: usize, outcome: Outcome, elapsed_us: u64) {
        let Some(slot) = self.slots.get(operation) else {
            return;
        };
        let index = match outcome {
            Outcome::Result(code) => match self.result_index.get(code as u16 as usize) {
                Some(&i) if i != u16::MAX => usize::from(i),
                _ => return,
            },
            Outcome::Fault(code) => ResultCode::ALL.len() + code as usize,
        };
        if let Some(counter) = slot.outcomes.get(index) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        let bucket = LATENCY_BUCKETS_US
            .iter()
            .position(|&max| elapsed_us <= max)
            .unwrap_or(LATENCY_BUCKETS_US.len());
        slot.latency[bucket].fetch_add(1, Ordering::Relaxed);
        slot.latency_sum_us.fetch_add(elapsed_us, Ordering::Relaxed);
    }

    /// The cached store figures, if read less than [`STORE_FIGURES_TTL`] ago.
    pub fn cached_store_figures(&self) -> Option<StoreFigures> {
        let cache = self.store_cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .as_ref()
            .filter(|(at, _)| at.elapsed() < STORE_FIGURES_TTL)
            .map(|(_, f)| f.clone())
    }

    /// Remembers freshly read store figures.
    pub fn remember_store_figures(&self, figures: &StoreFigures) {
        *self.store_cache.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((Instant::now(), figures.clone()));
    }

    /// The whole exposition: `operations` names the slots 1.. (slot 0 is `-`).
    pub fn render(&self, operations: &[&str], db: &DbStats, store: &StoreFigures) -> String {
        let mut requests = Vec::new();
        let mut latency = Vec::new();
        for (slot_index, slot) in self.slots.iter().enumerate() {
            let name = if slot_index == 0 {
                "-".to_string()
            } else {
                match operations.get(slot_index - 1) {
                    Some(n) => (*n).to_string(),
                    None => continue,
                }
            };
            for (i, counter) in slot.outcomes.iter().enumerate() {
                let n = counter.load(Ordering::Relaxed);
                if n == 0 {
                    continue;
                }
                let (kind, code) = match ResultCode::ALL.get(i) {
                    Some(code) => ("result", code.name()),
                    None => ("fault", FaultCode::ALL[i - ResultCode::ALL.len()].as_str()),
                };
                requests.push((name.clone(), kind, code, n));
            }
            let counts: Vec<u64> = slot
                .latency
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .collect();
            let count: u64 = counts.iter().sum();
            if count > 0 {
                // Per-bucket counts: the encoder makes them cumulative.
                let buckets = counts
                    .iter()
                    .enumerate()
                    .map(|(i, n)| {
                        let bound = LATENCY_BUCKETS_US
                            .get(i)
                            .map_or(f64::INFINITY, |us| *us as f64 / 1e6);
                        (bound, *n)
                    })
                    .collect::<Vec<_>>();
                let sum = slot.latency_sum_us.load(Ordering::Relaxed) as f64 / 1e6;
                latency.push((name, sum, count, buckets));
            }
        }
        let batch_counts: Vec<u64> = db
            .batch_sizes
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        let batches = batch_counts
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let bound = BATCH_BUCKETS.get(i).map_or(f64::INFINITY, |b| *b as f64);
                (bound, *n)
            })
            .collect();
        let snapshot = Snapshot {
            requests,
            latency,
            commits: db.commits.load(Ordering::Relaxed),
            writes: db.writes.load(Ordering::Relaxed),
            reads: db.reads.load(Ordering::Relaxed),
            checkpoints: db.checkpoints.load(Ordering::Relaxed),
            batches,
            store: store.clone(),
        };
        let mut registry = Registry::with_prefix("allps");
        registry.register_collector(Box::new(snapshot));
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &registry);
        out
    }
}

/// The Content-Type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// One operation's latency histogram: name, sum in seconds, count, (bound, count) buckets.
type Latency = (String, f64, u64, Vec<(f64, u64)>);

/// One scrape's numbers, handed to prometheus-client as a collector.
#[derive(Debug)]
struct Snapshot {
    requests: Vec<(String, &'static str, &'static str, u64)>,
    latency: Vec<Latency>,
    commits: u64,
    writes: u64,
    reads: u64,
    checkpoints: u64,
    batches: Vec<(f64, u64)>,
    store: StoreFigures,
}

type NoExemplars = std::collections::HashMap<
    usize,
    prometheus_client::metrics::exemplar::Exemplar<Vec<(String, String)>, f64>,
>;

fn counter(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    value: u64,
) -> Result<(), std::fmt::Error> {
    let c = ConstCounter::new(value);
    let metric = encoder.encode_descriptor(name, help, None, c.metric_type())?;
    c.encode(metric)
}

fn gauge(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    value: i64,
) -> Result<(), std::fmt::Error> {
    let g = ConstGauge::new(value);
    let metric = encoder.encode_descriptor(name, help, None, g.metric_type())?;
    g.encode(metric)
}

impl Collector for Snapshot {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let mut family = encoder.encode_descriptor(
            "requests",
            "SOAP requests answered, by operation and Result code (kind=result) or fault code (kind=fault)",
            None,
            MetricType::Counter,
        )?;
        for (operation, kind, code, n) in &self.requests {
            let labels = [
                ("operation", operation.as_str()),
                ("kind", kind),
                ("code", code),
            ];
            let c = ConstCounter::new(*n);
            c.encode(family.encode_family(&labels)?)?;
        }
        let mut family = encoder.encode_descriptor(
            "request_duration_seconds",
            "Time from the request's arrival to its answer, by operation",
            None,
            MetricType::Histogram,
        )?;
        for (operation, sum, count, buckets) in &self.latency {
            let labels = [("operation", operation.as_str())];
            family
                .encode_family(&labels)?
                .encode_histogram::<Vec<(String, String)>>(
                    *sum,
                    *count,
                    buckets,
                    None::<&NoExemplars>,
                )?;
        }
        counter(
            &mut encoder,
            "store_commits",
            "Write transactions committed by the store's writer",
            self.commits,
        )?;
        counter(
            &mut encoder,
            "store_writes",
            "Write requests carried by those commits",
            self.writes,
        )?;
        counter(
            &mut encoder,
            "store_reads",
            "Read transactions served",
            self.reads,
        )?;
        counter(
            &mut encoder,
            "store_checkpoints",
            "WAL checkpoints run",
            self.checkpoints,
        )?;
        let batch_total: u64 = self.batches.iter().map(|b| b.1).sum();
        encoder
            .encode_descriptor(
                "store_batch_size",
                "Writes per commit (group commit batch sizes)",
                None,
                MetricType::Histogram,
            )?
            .encode_histogram::<Vec<(String, String)>>(
                self.writes as f64,
                batch_total,
                &self.batches,
                None::<&NoExemplars>,
            )?;
        let mut family = encoder.encode_descriptor(
            "jobs",
            "Jobs in the durable queue by state: due (pending, due now), scheduled (pending, later), running, retrying (pending after a failed attempt), failed (gave up)",
            None,
            MetricType::Gauge,
        )?;
        let s = &self.store;
        for (state, n) in [
            ("due", s.jobs_due),
            ("scheduled", s.jobs_scheduled),
            ("running", s.jobs_running),
            ("retrying", s.jobs_retrying),
            ("failed", s.jobs_failed),
        ] {
            ConstGauge::new(n).encode(family.encode_family(&[("state", state)])?)?;
        }
        gauge(
            &mut encoder,
            "jobs_oldest_due_age_seconds",
            "Seconds since the oldest unfinished due job fell due (0: none)",
            s.oldest_due_age_secs,
        )?;
        counter(
            &mut encoder,
            "replies_written",
            "Replies written to the GetReplies feed",
            u64::try_from(s.replies_written).unwrap_or(0),
        )?;
        let mut family = encoder.encode_descriptor(
            "collection_attempts",
            "Debit-order presentations answered, by outcome",
            None,
            MetricType::Counter,
        )?;
        for (outcome, n) in &s.collections {
            ConstCounter::new(u64::try_from(*n).unwrap_or(0))
                .encode(family.encode_family(&[("outcome", outcome.as_str())])?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_render_as_prometheus_text() {
        let m = Metrics::new();
        m.record(1, Outcome::Result(ResultCode::ALL[0]), 700);
        m.record(1, Outcome::Result(ResultCode::ALL[0]), 3_000);
        m.record(0, Outcome::Fault(FaultCode::ALL[0]), 10);
        m.record(MAX_OPERATIONS + 5, Outcome::Fault(FaultCode::ALL[0]), 10);
        let db = DbStats::default();
        db.committed(3);
        let store = StoreFigures {
            jobs_due: 2,
            collections: vec![("UNPAID".into(), 4)],
            ..StoreFigures::default()
        };
        let text = m.render(&["GetClient"], &db, &store);
        let ok = ResultCode::ALL[0].name();
        assert!(
            text.contains(&format!(
                "allps_requests_total{{operation=\"GetClient\",kind=\"result\",code=\"{ok}\"}} 2"
            )),
            "{text}"
        );
        let fault = FaultCode::ALL[0].as_str();
        assert!(text.contains(&format!(
            "allps_requests_total{{operation=\"-\",kind=\"fault\",code=\"{fault}\"}} 1"
        )));
        assert!(
            text.contains(
                "allps_request_duration_seconds_bucket{le=\"0.001\",operation=\"GetClient\"} 1"
            ) || text.contains(
                "allps_request_duration_seconds_bucket{operation=\"GetClient\",le=\"0.001\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains("allps_request_duration_seconds_count{operation=\"GetClient\"} 2"));
        assert!(text.contains("allps_store_commits_total 1"));
        assert!(text.contains("allps_store_batch_size_count 1"));
        assert!(text.contains("allps_store_batch_size_bucket{le=\"2\"} 0"));
        assert!(text.contains("allps_store_batch_size_bucket{le=\"4\"} 1"));
        assert!(text.contains("allps_store_batch_size_bucket{le=\"+Inf\"} 1"));
        assert!(text.contains("allps_jobs{state=\"due\"} 2"));
        assert!(text.contains("allps_collection_attempts_total{outcome=\"UNPAID\"} 4"));
    }
}
