//! Comparing outcomes scalar by scalar: integers exactly; floats bit-exactly or within `ulps`
//! (device math and FMA contraction may differ from the host in the last bits), with every NaN
//! equal to every other (Rust leaves NaN payloads unspecified).

#![allow(dead_code)]

use ringkernel_ir::ir::ScalarType;
use ringkernel_transpile::model::StructLayout;
use ringkernel_transpile::probe::ProbeOutcome;

fn scalar_eq(ty: ScalarType, a: &[u8], b: &[u8], ulps: u64) -> bool {
    let close = |x: f64, y: f64, bits_x: i64, bits_y: i64| {
        (x.is_nan() && y.is_nan())
            || bits_x == bits_y
            || (x.signum() == y.signum() && bits_x.abs_diff(bits_y) <= ulps)
            || (x == y)
    };
    match ty {
        ScalarType::F32 => {
            let (x, y) = (
                f32::from_le_bytes(a.try_into().unwrap_or_default()),
                f32::from_le_bytes(b.try_into().unwrap_or_default()),
            );
            close(x.into(), y.into(), x.to_bits().into(), y.to_bits().into())
        }
        ScalarType::F64 => {
            let (x, y) = (
                f64::from_le_bytes(a.try_into().unwrap_or_default()),
                f64::from_le_bytes(b.try_into().unwrap_or_default()),
            );
            close(x, y, x.to_bits() as i64, y.to_bits() as i64)
        }
        _ => a == b,
    }
}

/// Bytes of two values of `layout`, compared scalar by scalar.
pub fn bytes_eq(layout: &StructLayout, a: &[u8], b: &[u8], ulps: u64) -> Result<(), String> {
    if a.len() != b.len() {
        return Err(format!("{}: {} vs {} bytes", layout.name, a.len(), b.len()));
    }
    for (fi, k, ty, off) in layout.scalars() {
        let n = (ty.bits() / 8) as usize;
        let (x, y) = (&a[off..off + n], &b[off..off + n]);
        if !scalar_eq(ty, x, y, ulps) {
            let field = &layout.fields[fi].name;
            return Err(format!("{}.{field}[{k}]: {x:?} vs {y:?}", layout.name));
        }
    }
    Ok(())
}

/// Two outcomes of one handler (state layout `state`, reply layout `reply`).
pub fn outcome_eq(
    state: &StructLayout,
    reply: &StructLayout,
    a: &ProbeOutcome,
    b: &ProbeOutcome,
    ulps: u64,
) -> Result<(), String> {
    if a.code != b.code {
        return Err(format!("code {} vs {}", a.code, b.code));
    }
    bytes_eq(state, &a.state, &b.state, ulps)?;
    match (&a.reply, &b.reply) {
        (Some(x), Some(y)) => bytes_eq(reply, x, y, ulps),
        (None, None) => Ok(()),
        _ => Err("reply present on one side only".into()),
    }
}
