//! Persistent FDTD mode: a per-cell update of a 2D leapfrog scheme (the wave equation is the
//! example) becomes ONE persistent cooperative kernel that advances the field between
//! `grid.sync()`s and is steered through a mailbox in mapped host memory.
//!
//! Cell contract: `fn f(u: *const f32, u_prev: *const f32, i: u32, nx: u32, coef: f32) -> f32`,
//! the new value of interior cell `i = y * nx + x` (`0 < x < nx - 1`, `0 < y < ny - 1`); it may
//! read `u[i ± 1]`, `u[i ± nx]` and `u_prev[i]`. Edge cells are held at 0 (Dirichlet). The slice
//! form `fn f(u: *const f32, u_len: u64, u_prev: *const f32, u_prev_len: u64, i, nx, coef)` — what
//! the transpiler makes of `u: &[f32], u_prev: &[f32]` — also receives each field's length
//! (`nx * ny`), so the function can bounds-check its reads.
//!
//! Kernel: `extern "C" __global__ void NAME(rk_fdtd_params p)`,
//! launched with `cuLaunchCooperativeKernel` and a co-resident grid (layout [`PARAMS_C`], 64 bytes). Three field buffers rotate
//! (previous, current, next). Each loop iteration: thread 0 of the grid polls the control block;
//! `grid.sync()`; every thread applies the command (all take the same branch); `grid.sync()` if a
//! command changed state; one time step if steps are queued; telemetry. Commands
//! (`ctrl[CMD_OP]`, arguments in `ctrl[CMD_A]`, `ctrl[CMD_B]`, `ctrl[CMD_VALUE]` as `f64` bits),
//! published by the host writing `ctrl[CMD_SEQ]` last (release):
//!
//! | op | effect | reply |
//! |---|---|---|
//! | [`OP_INJECT`] | `u[b * nx + a] += value` (current field) | — |
//! | [`OP_RUN`] | queue `a` more steps (they run between later polls) | — |
//! | [`OP_PAUSE`] | drop the queued steps | — |
//! | [`OP_ENERGY`] | `sum(u²)` over the current field, as `f64` | `REPLY_VALUE`, `REPLY_STEP` |
//! | [`OP_PROBE`] | `u[b * nx + a]` | `REPLY_VALUE`, `REPLY_STEP` |
//! | [`OP_SNAPSHOT`] | copy the current field into the mapped snapshot buffer | `REPLY_STEP` |
//! | [`OP_STOP`] | the kernel returns | — |
//!
//! After applying a command the kernel writes `STEPS_DONE`, `REMAINING` and the reply, then
//! `ACK_SEQ = CMD_SEQ` (release, system scope). One command is in flight at a time: the host
//! waits for the ack before the next. Nothing in the loop calls the driver, and the host must not
//! allocate or free (which synchronise the context) until the kernel has returned.

use std::fmt::Write;

use super::{contract, find, param_types, reject_ring_only};
use crate::emit::emit_module;
use crate::error::IrError;
use crate::ir::{Module, ScalarType, Type};

/// Control-block slot (u64 index): command sequence number, written last by the host.
pub const CMD_SEQ: usize = 0;
/// Slot: command op (`OP_*`).
pub const CMD_OP: usize = 1;
/// Slot: first argument (x, or step count).
pub const CMD_A: usize = 2;
/// Slot: second argument (y).
pub const CMD_B: usize = 3;
/// Slot: `f64` bits of the command's value (amplitude).
pub const CMD_VALUE: usize = 4;
/// Slot: the last command sequence number the kernel applied (device writes, release).
pub const ACK_SEQ: usize = 5;
/// Slot: time steps completed so far.
pub const STEPS_DONE: usize = 6;
/// Slot: steps still queued.
pub const REMAINING: usize = 7;
/// Slot: `f64` bits of the last reply value (energy or probe).
pub const REPLY_VALUE: usize = 8;
/// Slot: the step count at which the reply was measured.
pub const REPLY_STEP: usize = 9;
/// Slot: loop iterations of the kernel (liveness).
pub const HEARTBEAT: usize = 10;
/// Control block length in u64 slots (128 bytes).
pub const CTRL_SLOTS: usize = 16;

/// No command.
pub const OP_NOP: u32 = 0;
/// Add `value` to the current field at `(a, b)`.
pub const OP_INJECT: u32 = 1;
/// Queue `a` time steps.
pub const OP_RUN: u32 = 2;
/// Drop queued steps.
pub const OP_PAUSE: u32 = 3;
/// Reply with the field energy `sum(u²)`.
pub const OP_ENERGY: u32 = 4;
/// Reply with `u` at `(a, b)`.
pub const OP_PROBE: u32 = 5;
/// Copy the current field to the snapshot buffer.
pub const OP_SNAPSHOT: u32 = 6;
/// Return from the kernel.
pub const OP_STOP: u32 = 7;

/// The kernel's parameter struct, passed by value (mirror it with a `#[repr(C)]` Pod struct of
/// six `u64` device addresses, `nx`, `ny` as `u32`, `coef` as `f32` and a `u32` pad: 64 bytes).
pub const PARAMS_C: &str = "struct rk_fdtd_params {\n\
    unsigned long long u0, u1, u2;   // three field buffers, nx * ny floats each\n\
    unsigned long long ctrl;         // mapped control block, CTRL_SLOTS u64s\n\
    unsigned long long snapshot;     // mapped nx * ny floats\n\
    unsigned long long scratch;      // device scratch, SCRATCH_BYTES\n\
    unsigned int nx, ny;\n\
    float coef;\n\
    unsigned int pad;\n\
};\n";

/// Size of the parameter struct in bytes.
pub const PARAMS_BYTES: usize = 64;
/// Bytes of device scratch the kernel needs (`rk_fdtd_params::scratch`).
pub const SCRATCH_BYTES: usize = 64;

/// Emits `module` plus the persistent FDTD kernel `kernel_name` around `cell_fn`.
pub fn emit_fdtd_2d(module: &Module, cell_fn: &str, kernel_name: &str) -> Result<String, IrError> {
    let f = find(module, cell_fn)?;
    reject_ring_only(module, "FDTD")?;
    crate::verify::check_identifier(kernel_name)?;
    let (ptr, len) = (
        Type::ptr_const(ScalarType::F32),
        Type::Scalar(ScalarType::U64),
    );
    let scalars = [
        Type::Scalar(ScalarType::U32),
        Type::Scalar(ScalarType::U32),
        Type::Scalar(ScalarType::F32),
    ];
    let pointer_form: Vec<Type> = [ptr.clone(), ptr.clone()]
        .into_iter()
        .chain(scalars.clone())
        .collect();
    let slice_form: Vec<Type> = [ptr.clone(), len.clone(), ptr, len]
        .into_iter()
        .chain(scalars)
        .collect();
    let got = param_types(f);
    let slices = got == slice_form;
    if !(slices || got == pointer_form) || f.ret != Type::Scalar(ScalarType::F32) {
        return Err(contract(
            f,
            "an FDTD cell function is fn(u: *const f32, u_prev: *const f32, i: u32, nx: u32, coef: f32) -> f32, \
             or with each field as a slice (pointer, then its u64 length)",
        ));
    }
    // A slice-form cell function gets each field's length, so its own bounds checks hold.
    let (u_arg, prev_arg) = if slices {
        ("f[cur], n", "f[prev], n")
    } else {
        ("f[cur]", "f[prev]")
    };
    let mut out = String::from("#include <cooperative_groups.h>\n#include <cuda/atomic>\n");
    out.push_str(&emit_module(module)?);
    out.push('\n');
    out.push_str(PARAMS_C);
    let _ = write!(
        out,
        r#"static_assert(sizeof(rk_fdtd_params) == {PARAMS_BYTES}, "rk_fdtd_params layout");
// Two broadcast slots used by iteration parity: the leader fills slot k+1 while a slow thread
// may still read slot k (it cannot be further behind: each iteration starts with grid.sync).
struct rk_fdtd_slot {{ unsigned int op, a, b, pad; double value; double energy; }};
struct rk_fdtd_scratch {{ rk_fdtd_slot slot[2]; }};
static_assert(sizeof(rk_fdtd_scratch) <= {SCRATCH_BYTES}, "scratch size");
static __device__ __forceinline__ unsigned long long rk_fdtd_acquire(unsigned long long* p) {{
    cuda::atomic_ref<unsigned long long, cuda::thread_scope_system> a(*p);
    return a.load(cuda::memory_order_acquire);
}}
static __device__ __forceinline__ void rk_fdtd_release(unsigned long long* p, unsigned long long v) {{
    cuda::atomic_ref<unsigned long long, cuda::thread_scope_system> a(*p);
    a.store(v, cuda::memory_order_release);
}}
static __device__ __forceinline__ void rk_fdtd_put(unsigned long long* p, unsigned long long v) {{
    cuda::atomic_ref<unsigned long long, cuda::thread_scope_system> a(*p);
    a.store(v, cuda::memory_order_relaxed);
}}
extern "C" __global__ void {kernel_name}(rk_fdtd_params p) {{
    namespace cg = cooperative_groups;
    cg::grid_group grid = cg::this_grid();
    float* f[3] = {{(float*)p.u0, (float*)p.u1, (float*)p.u2}};
    unsigned long long* ctrl = (unsigned long long*)p.ctrl;
    rk_fdtd_scratch* scratch = (rk_fdtd_scratch*)p.scratch;
    const unsigned long long tid = grid.thread_rank(), nthreads = grid.num_threads();
    const unsigned long long n = (unsigned long long)p.nx * p.ny;
    const bool leader = tid == 0;
    unsigned int prev = 0, cur = 1;
    unsigned long long remaining = 0, steps = 0, seen = 0, beats = 0;
    if (leader) seen = rk_fdtd_acquire(&ctrl[{ACK_SEQ}]);
    while (true) {{
        rk_fdtd_slot* s = &scratch->slot[beats & 1ull];
        if (leader) {{
            // Poll the mailbox; broadcast the command through scratch (grid.sync orders it).
            unsigned int op = {OP_NOP};
            const unsigned long long seq = rk_fdtd_acquire(&ctrl[{CMD_SEQ}]);
            if (seq != seen) {{
                op = (unsigned int)ctrl[{CMD_OP}];
                s->a = (unsigned int)ctrl[{CMD_A}];
                s->b = (unsigned int)ctrl[{CMD_B}];
                s->value = __longlong_as_double((long long)ctrl[{CMD_VALUE}]);
                seen = seq;
            }}
            s->op = op;
            s->energy = 0.0;
        }}
        grid.sync();
        const unsigned int op = s->op;
        const unsigned int a = s->a, b = s->b;
        const double value = s->value;
        if (op == {OP_STOP}) {{
            if (leader) {{ rk_fdtd_put(&ctrl[{STEPS_DONE}], steps); rk_fdtd_release(&ctrl[{ACK_SEQ}], seen); }}
            return;
        }}
        bool reply = false;
        double reply_value = 0.0;
        if (op == {OP_INJECT}) {{
            if (leader && a < p.nx && b < p.ny) f[cur][(unsigned long long)b * p.nx + a] += (float)value;
        }} else if (op == {OP_RUN}) {{
            remaining += a;
        }} else if (op == {OP_PAUSE}) {{
            remaining = 0;
        }} else if (op == {OP_ENERGY}) {{
            double e = 0.0;
            for (unsigned long long i = tid; i < n; i += nthreads) {{ const double v = (double)f[cur][i]; e += v * v; }}
            atomicAdd(&s->energy, e);
            grid.sync();
            reply = true;
            reply_value = s->energy;
        }} else if (op == {OP_PROBE}) {{
            reply = true;
            reply_value = (a < p.nx && b < p.ny) ? (double)f[cur][(unsigned long long)b * p.nx + a] : 0.0;
        }} else if (op == {OP_SNAPSHOT}) {{
            float* snap = (float*)p.snapshot;
            for (unsigned long long i = tid; i < n; i += nthreads) snap[i] = f[cur][i];
            __threadfence_system();
            grid.sync();
            reply = true;
        }}
        if (leader && op != {OP_NOP}) {{
            rk_fdtd_put(&ctrl[{STEPS_DONE}], steps);
            rk_fdtd_put(&ctrl[{REMAINING}], remaining);
            if (reply) {{
                rk_fdtd_put(&ctrl[{REPLY_VALUE}], (unsigned long long)__double_as_longlong(reply_value));
                rk_fdtd_put(&ctrl[{REPLY_STEP}], steps);
            }}
            rk_fdtd_release(&ctrl[{ACK_SEQ}], seen);
        }}
        // An injection must land before any thread reads the field for the next step.
        if (op != {OP_NOP}) grid.sync();
        if (remaining > 0) {{
            const unsigned int next = 3u - prev - cur;
            for (unsigned long long i = tid; i < n; i += nthreads) {{
                const unsigned int x = (unsigned int)(i % p.nx), y = (unsigned int)(i / p.nx);
                const bool interior = x > 0u && y > 0u && x + 1u < p.nx && y + 1u < p.ny;
                f[next][i] = interior ? {cell}({u_arg}, {prev_arg}, (unsigned int)i, p.nx, p.coef) : 0.0f;
            }}
            prev = cur;
            cur = next;
            remaining -= 1;
            steps += 1;
            if (leader) {{ rk_fdtd_put(&ctrl[{STEPS_DONE}], steps); rk_fdtd_release(&ctrl[{REMAINING}], remaining); }}
        }} else if (leader) {{
            __nanosleep(1000);
        }}
        beats += 1;
        if (leader) rk_fdtd_put(&ctrl[{HEARTBEAT}], beats);
        // The next poll's grid.sync also separates this step's writes from the next step's reads.
    }}
}}
"#,
        cell = f.name,
    );
    Ok(out)
}
