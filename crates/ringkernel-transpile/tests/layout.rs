//! The transpiler's `#[repr(C)]` layouts equal rustc's for the same structs, padding included
//! (and the CUDA definitions compile under their `static_assert`s of the same numbers).

use std::mem::{align_of, offset_of, size_of};

use ringkernel_transpile::model::StructLayout;

macro_rules! structs {
    ($($name:ident { $($f:ident : $t:ty),* })*) => {
        $(
            #[allow(dead_code)]
            #[repr(C)]
            struct $name { $($f: $t),* }
        )*
        /// (source text, [(name, size, align, [(field, offset)])]) from rustc.
        fn rust_layouts() -> Vec<(&'static str, usize, usize, Vec<(&'static str, usize)>)> {
            vec![$((
                stringify!($name),
                size_of::<$name>(),
                align_of::<$name>(),
                vec![$((stringify!($f), offset_of!($name, $f))),*],
            )),*]
        }
        const SRC: &str = concat!($("#[repr(C)] pub struct ", stringify!($name), " { ", $("pub ", stringify!($f), ": ", stringify!($t), ", ",)* "}\n",)*);
    };
}

structs! {
    Padded { a: u32, b: u64, c: u32 }
    Arrays { x: [u32; 3], y: f64, z: [i32; 5] }
    Small { a: f32 }
    Mixed { a: i64, b: [f32; 7], c: u32, d: [u64; 2], e: i32 }
}

#[test]
fn layouts_match_rustc() {
    let names = ["Padded", "Arrays", "Small", "Mixed"];
    let actors: String = names
        .iter()
        .enumerate()
        .map(|(k, n)| {
            format!(
                "pub struct A{k}; impl Actor for A{k} {{ const NAME: &'static str = \"a{k}\";
                 type State = {n}; type Msg = {n}; type Reply = {n};
                 fn handle(s: &mut {n}, m: &{n}, _: &Context) -> Result<{n}, HandlerError> {{ Ok(*s) }} }}\n"
            )
        })
        .collect();
    let src = format!("mod lay {{\n{SRC}\n{actors}}}");
    let out = ringkernel_transpile::transpile_str(&src)
        .unwrap_or_else(|d| panic!("{:?}", d.iter().map(|d| &d.message).collect::<Vec<_>>()));
    for (name, size, align, fields) in rust_layouts() {
        let l: &StructLayout = out.layouts.iter().find(|l| l.name == name).expect("layout");
        assert_eq!((l.size, l.align), (size, align), "{name}");
        for (f, off) in fields {
            assert_eq!(l.field(f).map(|x| x.offset), Some(off), "{name}.{f}");
        }
    }
    // The C definitions satisfy the same numbers (their static_asserts), padding included.
    for a in &out.actors {
        let cuda = a.cuda.standalone();
        ringkernel_cuda::nvrtc::testing::compiler()
            .compile(
                "layout.cu",
                &cuda,
                ringkernel_cuda::nvrtc::testing::TEST_ARCH,
                &["-rdc=true"],
            )
            .unwrap_or_else(|e| panic!("{e}\n{cuda}"));
    }
}
