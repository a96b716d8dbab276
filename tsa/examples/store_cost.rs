//! CPU cost per record of the group-commit store with 64 concurrent writers.
#![allow(clippy::unwrap_used)]
use std::time::{Instant, SystemTime};
use tsa::{request::ImprintAlgorithm, store::*};
fn cpu() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap();
    let a = s.rsplit_once(')').unwrap().1;
    let f: Vec<f64> = a
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    (f[11] + f[12]) / 100.0
}
#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() {
    for durability in [Durability::Full, Durability::Normal] {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(
            &dir.path().join("t.sqlite"),
            StoreOptions {
                durability,
                ..Default::default()
            },
        )
        .unwrap();
        let n = 40_000u64;
        let (t, c) = (Instant::now(), cpu());
        let mut handles = Vec::new();
        for w in 0..64u64 {
            let store = store.clone();
            handles.push(tokio::spawn(async move {
                for _ in 0..n / 64 {
                    let serial = store.next_serial().await.unwrap();
                    store
                        .record(TokenRecord {
                            serial,
                            gen_time: SystemTime::now(),
                            algorithm: ImprintAlgorithm::Sha256,
                            imprint: vec![w as u8; 32],
                            policy: tsa::config::DEFAULT_POLICY,
                        })
                        .await
                        .unwrap();
                }
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
        println!(
            "{durability:?}: {:.0} records/s, {:.1} us CPU/record",
            n as f64 / t.elapsed().as_secs_f64(),
            (cpu() - c) * 1e6 / n as f64
        );
        store.close();
    }
}
