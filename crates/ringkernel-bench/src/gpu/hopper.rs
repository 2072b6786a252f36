//! Hopper features measured on their own: what one `cluster.sync()` costs beside one
//! `grid.sync()` (`ringkernel_cuda::sync_cost`), on one GPU, in one process.

use crate::env::Environment;
use crate::error::BenchError;
use crate::report::{Report, Row, Section, Unit};
use crate::samples::Samples;
use ringkernel_cuda::sync_cost::SyncCosts;

/// Rounds of 8 syncs per launch, and launches per row.
#[derive(Debug, Clone)]
pub struct HopperBenchConfig {
    /// Rounds per launch.
    pub iters: u64,
    /// Launches per row (each one sample).
    pub runs: usize,
}

impl HopperBenchConfig {
    /// Publication sizes, or a fast smoke run.
    pub fn new(quick: bool) -> Self {
        if quick {
            HopperBenchConfig {
                iters: 2_000,
                runs: 5,
            }
        } else {
            HopperBenchConfig {
                iters: 20_000,
                runs: 10,
            }
        }
    }
}

const THREADS: u32 = 128;

/// Runs the sync rows on GPU 0.
pub fn run(c: &HopperBenchConfig) -> Result<Report, BenchError> {
    let s = SyncCosts::new(0).map_err(|e| BenchError::bench("sync costs", e))?;
    let sms = s.sm_count();
    let mut report = Report::new(
        "RingKernel Hopper benchmarks",
        Environment::capture(Some(format!("GPU 0, {sms} SMs"))),
    );
    let mut sec = Section::new(
        "one barrier: cluster.sync() vs grid.sync()",
        format!(
            "Each launch runs {} rounds of 8 back-to-back syncs (nothing else in the loop) in \
             blocks of {THREADS} threads; a block's thread 0 times its rounds with %globaltimer \
             and the slowest block counts: ns per sync = its time / (8 x rounds). {} launches \
             per row. Clusters are launched with cuLaunchKernelEx's cluster dimension, grids \
             with its cooperative attribute.",
            c.iters, c.runs
        ),
    );
    let mut row = |name: String, f: &dyn Fn() -> Result<f64, ringkernel_cuda::CudaError>| {
        let v = (0..c.runs)
            .map(|_| f())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| BenchError::bench("sync", e))?;
        sec.push(Row::new(name, Unit::Nanoseconds, &Samples::new(v)?));
        Ok::<(), BenchError>(())
    };
    for cluster in [2u32, 4, 8] {
        let blocks = sms / cluster * cluster;
        row(
            format!("cluster.sync, clusters of {cluster}, {blocks} blocks"),
            &|| s.cluster_sync(cluster, blocks, THREADS, c.iters),
        )?;
    }
    row(format!("grid.sync, {sms} blocks (one per SM)"), &|| {
        s.grid_sync(sms, THREADS, c.iters)
    })?;
    row("grid.sync, 8 blocks".into(), &|| {
        s.grid_sync(8, THREADS, c.iters)
    })?;
    report.sections.push(sec);
    Ok(report)
}
