//! Seeded random WIT worlds, and values for them, for the random-world
//! round trips (`tests/tests/random_worlds.rs`).
//!
//! A world (one seed) has an interface `types-sN` of named types (records,
//! variants, enums and flags over primitives, strings, lists, options,
//! results, tuples and earlier named types, nested to depth 4), an
//! interface `echo-sN` of functions over them, and world `w-sN`, which
//! imports and exports `echo-sN`. Its guest forwards each export to the
//! import; the host checks what the import receives and what the export
//! returns. Each function comes with the values it is called with.
//!
//! Everything here is a pure function of the seed, so `build.rs` (which
//! writes the typed host side) and the test (which builds the guest and the
//! dynamic `Val`s) regenerate the same world. No dependency: this file is
//! also compiled into `build.rs`.
#![allow(dead_code)]

use std::fmt::Write as _;

/// The deepest a parameter's type nests (a primitive is depth 1).
pub const MAX_DEPTH: usize = 4;
/// How many times each function is called.
pub const CALLS: usize = 2;
/// The package every batch of worlds lives in.
pub const PACKAGE: &str = "rand:batch";

/// splitmix64: small, fast, and the same on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ SEED_MIX)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// Mixed into every seed so that seed 0 is not splitmix's fixed start.
const SEED_MIX: u64 = 0x5eed_0fa1_1c0f_fee5;

/// A type as a parameter or member spells it.
#[derive(Clone, Debug, PartialEq)]
pub enum Ty {
    Bool,
    U8,
    S8,
    U16,
    S16,
    U32,
    S32,
    U64,
    S64,
    F32,
    F64,
    Char,
    String,
    List(Box<Ty>),
    Option(Box<Ty>),
    Result(Option<Box<Ty>>, Option<Box<Ty>>),
    Tuple(Vec<Ty>),
    /// Named type `t{index}` of the world's `types` interface.
    Named(usize),
}

const PRIMITIVES: [Ty; 13] = [
    Ty::Bool,
    Ty::U8,
    Ty::S8,
    Ty::U16,
    Ty::S16,
    Ty::U32,
    Ty::S32,
    Ty::U64,
    Ty::S64,
    Ty::F32,
    Ty::F64,
    Ty::Char,
    Ty::String,
];

/// A named type's definition. Member names are positional: fields `fI`,
/// cases `cI`, enum cases `eI`, flags `gI`.
#[derive(Clone, Debug)]
pub enum Def {
    Record(Vec<Ty>),
    Variant(Vec<Option<Ty>>),
    Enum(usize),
    Flags(usize),
}

/// A value of some `Ty`.
#[derive(Clone, Debug)]
pub enum Value {
    Bool(bool),
    U8(u8),
    S8(i8),
    U16(u16),
    S16(i16),
    U32(u32),
    S32(i32),
    U64(u64),
    S64(i64),
    F32(f32),
    F64(f64),
    Char(char),
    String(String),
    List(Vec<Value>),
    Option(Option<Box<Value>>),
    Result(Result<Option<Box<Value>>, Option<Box<Value>>>),
    Tuple(Vec<Value>),
    Record(Vec<Value>),
    Variant(usize, Option<Box<Value>>),
    Enum(usize),
    Flags(Vec<bool>),
}

/// A function of `echo-sN`: `fI: func(p0: A, p1: B) -> tuple<A, B>` (or
/// `-> A` for one parameter), and the arguments of each call.
#[derive(Clone, Debug)]
pub struct Func {
    pub params: Vec<Ty>,
    pub calls: Vec<Vec<Value>>,
}

/// One random world.
#[derive(Clone, Debug)]
pub struct World {
    pub seed: u64,
    pub defs: Vec<Def>,
    pub funcs: Vec<Func>,
}

impl World {
    pub fn generate(seed: u64) -> World {
        let mut rng = Rng::new(seed);
        let mut world = World {
            seed,
            defs: Vec::new(),
            funcs: Vec::new(),
        };
        for _ in 0..rng.range(1, 6) {
            let def = world.random_def(&mut rng);
            world.defs.push(def);
        }
        for _ in 0..rng.range(1, 4) {
            let count = if rng.chance(70) {
                rng.range(1, 2)
            } else {
                rng.range(3, 5)
            };
            let params: Vec<Ty> = (0..count)
                .map(|_| world.random_ty(&mut rng, MAX_DEPTH))
                .collect();
            let calls = (0..CALLS)
                .map(|_| {
                    params
                        .iter()
                        .map(|t| world.random_value(&mut rng, t, 0))
                        .collect()
                })
                .collect();
            world.funcs.push(Func { params, calls });
        }
        world
    }

    /// How deep `ty` nests.
    pub fn depth(&self, ty: &Ty) -> usize {
        match ty {
            Ty::List(t) | Ty::Option(t) => 1 + self.depth(t),
            Ty::Result(ok, err) => {
                1 + [ok, err]
                    .into_iter()
                    .flatten()
                    .map(|t| self.depth(t))
                    .max()
                    .unwrap_or(0)
            }
            Ty::Tuple(ts) => 1 + ts.iter().map(|t| self.depth(t)).max().unwrap_or(0),
            Ty::Named(i) => self.def_depth(*i),
            _ => 1,
        }
    }

    fn def_depth(&self, index: usize) -> usize {
        match &self.defs[index] {
            Def::Record(fields) => 1 + fields.iter().map(|t| self.depth(t)).max().unwrap_or(0),
            Def::Variant(cases) => {
                1 + cases
                    .iter()
                    .flatten()
                    .map(|t| self.depth(t))
                    .max()
                    .unwrap_or(0)
            }
            Def::Enum(_) | Def::Flags(_) => 1,
        }
    }

    fn random_def(&self, rng: &mut Rng) -> Def {
        match rng.below(4) {
            0 => Def::Record(
                (0..rng.range(1, 5))
                    .map(|_| self.random_ty(rng, MAX_DEPTH - 1))
                    .collect(),
            ),
            1 => Def::Variant(
                (0..rng.range(1, 5))
                    .map(|_| rng.chance(60).then(|| self.random_ty(rng, MAX_DEPTH - 1)))
                    .collect(),
            ),
            // Past 256 cases the discriminant is two bytes.
            2 => Def::Enum(if rng.chance(10) {
                rng.range(250, 300)
            } else {
                rng.range(1, 6)
            }),
            // Past 8 flags take two bytes, past 16 four; 32 is WIT's limit.
            _ => Def::Flags(match rng.below(5) {
                0 => rng.range(9, 16),
                1 => rng.range(17, 32),
                _ => rng.range(1, 8),
            }),
        }
    }

    /// A type at most `depth` deep.
    fn random_ty(&self, rng: &mut Rng, depth: usize) -> Ty {
        let named: Vec<usize> = (0..self.defs.len())
            .filter(|&i| self.def_depth(i) <= depth)
            .collect();
        let roll = rng.below(100);
        if roll < 35 || depth == 1 && named.is_empty() {
            return PRIMITIVES[rng.below(PRIMITIVES.len())].clone();
        }
        if depth == 1 || roll < 55 && !named.is_empty() {
            return if named.is_empty() {
                PRIMITIVES[rng.below(PRIMITIVES.len())].clone()
            } else {
                Ty::Named(named[rng.below(named.len())])
            };
        }
        let inner = depth - 1;
        match rng.below(4) {
            0 => Ty::List(Box::new(self.random_ty(rng, inner))),
            1 => Ty::Option(Box::new(self.random_ty(rng, inner))),
            2 => {
                let ok = rng.chance(70).then(|| Box::new(self.random_ty(rng, inner)));
                let err = rng.chance(70).then(|| Box::new(self.random_ty(rng, inner)));
                Ty::Result(ok, err)
            }
            _ => Ty::Tuple(
                (0..rng.range(1, 4))
                    .map(|_| self.random_ty(rng, inner))
                    .collect(),
            ),
        }
    }

    /// A value of `ty`; lists get shorter as they nest.
    fn random_value(&self, rng: &mut Rng, ty: &Ty, nesting: usize) -> Value {
        let sub = |rng: &mut Rng, t: &Ty| Box::new(self.random_value(rng, t, nesting + 1));
        match ty {
            Ty::Bool => Value::Bool(rng.chance(50)),
            Ty::U8 => Value::U8(int(rng, &[0, 1, u8::MAX as u64]) as u8),
            Ty::S8 => Value::S8(int(rng, &[0, i8::MIN as u64, i8::MAX as u64]) as i8),
            Ty::U16 => Value::U16(int(rng, &[0, u16::MAX as u64]) as u16),
            Ty::S16 => Value::S16(int(rng, &[0, i16::MIN as u64, -1i16 as u64]) as i16),
            Ty::U32 => Value::U32(int(rng, &[0, u32::MAX as u64]) as u32),
            Ty::S32 => Value::S32(int(rng, &[0, i32::MIN as u64, i32::MAX as u64]) as i32),
            Ty::U64 => Value::U64(int(rng, &[0, u64::MAX])),
            Ty::S64 => Value::S64(int(rng, &[0, i64::MIN as u64, -1i64 as u64]) as i64),
            Ty::F32 => Value::F32(f32_value(rng)),
            Ty::F64 => Value::F64(f64_value(rng)),
            Ty::Char => Value::Char(char_value(rng)),
            Ty::String => Value::String(string_value(rng)),
            Ty::List(t) => {
                let max = [4, 3, 2, 1].get(nesting).copied().unwrap_or(1);
                Value::List((0..rng.range(0, max)).map(|_| *sub(rng, t)).collect())
            }
            Ty::Option(t) => Value::Option(rng.chance(70).then(|| sub(rng, t))),
            Ty::Result(ok, err) => Value::Result(if rng.chance(50) {
                Ok(ok.as_ref().map(|t| sub(rng, t)))
            } else {
                Err(err.as_ref().map(|t| sub(rng, t)))
            }),
            Ty::Tuple(ts) => Value::Tuple(ts.iter().map(|t| *sub(rng, t)).collect()),
            Ty::Named(i) => match &self.defs[*i] {
                Def::Record(fields) => Value::Record(fields.iter().map(|t| *sub(rng, t)).collect()),
                Def::Variant(cases) => {
                    let case = rng.below(cases.len());
                    Value::Variant(case, cases[case].as_ref().map(|t| sub(rng, t)))
                }
                Def::Enum(n) => Value::Enum(if rng.chance(30) { n - 1 } else { rng.below(*n) }),
                Def::Flags(n) => Value::Flags((0..*n).map(|_| rng.chance(40)).collect()),
            },
        }
    }

    /// The world's two interfaces and the world itself, as WIT (without the
    /// `package` line).
    pub fn wit(&self) -> String {
        let s = self.seed;
        let mut out = format!("interface types-s{s} {{\n");
        for (i, def) in self.defs.iter().enumerate() {
            let _ = match def {
                Def::Record(fields) => {
                    let fields: Vec<String> = fields
                        .iter()
                        .enumerate()
                        .map(|(j, t)| format!("f{j}: {}", wit_ty(t)))
                        .collect();
                    writeln!(out, "  record t{i} {{ {} }}", fields.join(", "))
                }
                Def::Variant(cases) => {
                    let cases: Vec<String> = cases
                        .iter()
                        .enumerate()
                        .map(|(j, t)| match t {
                            Some(t) => format!("c{j}({})", wit_ty(t)),
                            None => format!("c{j}"),
                        })
                        .collect();
                    writeln!(out, "  variant t{i} {{ {} }}", cases.join(", "))
                }
                Def::Enum(n) => {
                    let cases: Vec<String> = (0..*n).map(|j| format!("e{j}")).collect();
                    writeln!(out, "  enum t{i} {{ {} }}", cases.join(", "))
                }
                Def::Flags(n) => {
                    let flags: Vec<String> = (0..*n).map(|j| format!("g{j}")).collect();
                    writeln!(out, "  flags t{i} {{ {} }}", flags.join(", "))
                }
            };
        }
        let names: Vec<String> = (0..self.defs.len()).map(|i| format!("t{i}")).collect();
        let _ = writeln!(
            out,
            "}}\n\ninterface echo-s{s} {{\n  use types-s{s}.{{{}}};",
            names.join(", ")
        );
        for (i, f) in self.funcs.iter().enumerate() {
            let params: Vec<String> = f
                .params
                .iter()
                .enumerate()
                .map(|(j, t)| format!("p{j}: {}", wit_ty(t)))
                .collect();
            let _ = writeln!(
                out,
                "  f{i}: func({}) -> {};",
                params.join(", "),
                wit_ty(&f.result())
            );
        }
        let _ = writeln!(
            out,
            "}}\n\nworld w-s{s} {{\n  import echo-s{s};\n  export echo-s{s};\n}}"
        );
        out
    }

    /// The Rust spelling of `ty` in bindings where the named types are in
    /// scope as `T0`, `T1`, ...
    pub fn rust_ty(&self, ty: &Ty) -> String {
        rust_ty(ty)
    }

    /// A Rust expression building `value` (of `ty`) with the bindings' types.
    pub fn rust_value(&self, ty: &Ty, value: &Value) -> String {
        match (ty, value) {
            (Ty::Bool, Value::Bool(b)) => b.to_string(),
            (Ty::U8, Value::U8(n)) => format!("{n}u8"),
            (Ty::S8, Value::S8(n)) => format!("{n}i8"),
            (Ty::U16, Value::U16(n)) => format!("{n}u16"),
            (Ty::S16, Value::S16(n)) => format!("{n}i16"),
            (Ty::U32, Value::U32(n)) => format!("{n}u32"),
            (Ty::S32, Value::S32(n)) => format!("{n}i32"),
            (Ty::U64, Value::U64(n)) => format!("{n}u64"),
            (Ty::S64, Value::S64(n)) => format!("{n}i64"),
            (Ty::F32, Value::F32(x)) => format!("f32::from_bits({:#x})", x.to_bits()),
            (Ty::F64, Value::F64(x)) => format!("f64::from_bits({:#x})", x.to_bits()),
            (Ty::Char, Value::Char(c)) => format!("{c:?}"),
            (Ty::String, Value::String(s)) => format!("String::from({s:?})"),
            (Ty::List(t), Value::List(items)) => {
                let items: Vec<String> = items.iter().map(|v| self.rust_value(t, v)).collect();
                format!("vec![{}]", items.join(", "))
            }
            (Ty::Option(t), Value::Option(v)) => match v {
                Some(v) => format!("Some({})", self.rust_value(t, v)),
                None => "None".into(),
            },
            (Ty::Result(ok, err), Value::Result(v)) => {
                let (tag, t, v) = match v {
                    Ok(v) => ("Ok", ok, v),
                    Err(v) => ("Err", err, v),
                };
                match (t, v) {
                    (Some(t), Some(v)) => format!("{tag}({})", self.rust_value(t, v)),
                    _ => format!("{tag}(())"),
                }
            }
            (Ty::Tuple(ts), Value::Tuple(vs)) => {
                let items: Vec<String> = ts
                    .iter()
                    .zip(vs)
                    .map(|(t, v)| self.rust_value(t, v) + ",")
                    .collect();
                format!("({})", items.join(" "))
            }
            (Ty::Named(i), v) => match (&self.defs[*i], v) {
                (Def::Record(fields), Value::Record(vs)) => {
                    let fields: Vec<String> = fields
                        .iter()
                        .zip(vs)
                        .enumerate()
                        .map(|(j, (t, v))| format!("f{j}: {}", self.rust_value(t, v)))
                        .collect();
                    format!("T{i} {{ {} }}", fields.join(", "))
                }
                (Def::Variant(cases), Value::Variant(case, v)) => match (&cases[*case], v) {
                    (Some(t), Some(v)) => format!("T{i}::C{case}({})", self.rust_value(t, v)),
                    _ => format!("T{i}::C{case}"),
                },
                (Def::Enum(_), Value::Enum(case)) => format!("T{i}::E{case}"),
                (Def::Flags(_), Value::Flags(set)) => {
                    let set: Vec<String> = set
                        .iter()
                        .enumerate()
                        .filter(|(_, on)| **on)
                        .map(|(j, _)| format!("T{i}::G{j}"))
                        .collect();
                    if set.is_empty() {
                        format!("T{i}::empty()")
                    } else {
                        // Only ever a whole argument, field or element: no parentheses needed.
                        set.join(" | ")
                    }
                }
                (def, v) => panic!("value {v:?} is not of {def:?}"),
            },
            (ty, v) => panic!("value {v:?} is not of {ty:?}"),
        }
    }
}

impl Func {
    /// What the function returns: its parameter, or a tuple of them.
    pub fn result(&self) -> Ty {
        match self.params.as_slice() {
            [one] => one.clone(),
            many => Ty::Tuple(many.to_vec()),
        }
    }
}

/// A batch of worlds as one WIT package: each world's interfaces and world,
/// and world `all` including every world, which the batch's guest targets.
pub fn batch_wit(worlds: &[World]) -> String {
    let mut out = format!("package {PACKAGE};\n\n");
    for w in worlds {
        out += &w.wit();
        out += "\n";
    }
    out += "world all {\n";
    for w in worlds {
        let _ = writeln!(out, "  include w-s{};", w.seed);
    }
    out += "}\n";
    out
}

/// The batch's guest crate root: each export calls the same import, so
/// every value is lifted and lowered both ways in the guest.
pub fn batch_guest(worlds: &[World]) -> String {
    let mut out = String::from(
        "//! Generated: each export of world `all` forwards to the same import.\n\
         #![deny(warnings)]\nmod bindings;\n\nstruct Echo;\n",
    );
    for w in worlds {
        let s = w.seed;
        let _ = writeln!(
            out,
            "\nmod s{s} {{\n    #[allow(unused_imports)]\n    use crate::bindings::types_s{s}::*;\n    \
             use crate::bindings::echo_s{s} as host;\n\n    \
             impl crate::bindings::exports::echo_s{s}::Guest for super::Echo {{"
        );
        for (i, f) in w.funcs.iter().enumerate() {
            let params: Vec<String> = f
                .params
                .iter()
                .enumerate()
                .map(|(j, t)| format!("p{j}: {}", rust_ty(t)))
                .collect();
            // Imports borrow a top-level string or list.
            let args: Vec<String> = f
                .params
                .iter()
                .enumerate()
                .map(|(j, t)| match t {
                    Ty::String | Ty::List(_) => format!("&p{j}"),
                    _ => format!("p{j}"),
                })
                .collect();
            let _ = writeln!(
                out,
                "        fn f{i}({}) -> {} {{\n            host::f{i}({})\n        }}",
                params.join(", "),
                rust_ty(&f.result()),
                args.join(", ")
            );
        }
        out += "    }\n}\n";
    }
    out += "\nbindings::export!(Echo);\n";
    out
}

/// The Rust spelling of `ty`, with the named types in scope as `T0`, ...
pub fn rust_ty(ty: &Ty) -> String {
    match ty {
        Ty::Bool => "bool".into(),
        Ty::U8 => "u8".into(),
        Ty::S8 => "i8".into(),
        Ty::U16 => "u16".into(),
        Ty::S16 => "i16".into(),
        Ty::U32 => "u32".into(),
        Ty::S32 => "i32".into(),
        Ty::U64 => "u64".into(),
        Ty::S64 => "i64".into(),
        Ty::F32 => "f32".into(),
        Ty::F64 => "f64".into(),
        Ty::Char => "char".into(),
        Ty::String => "String".into(),
        Ty::List(t) => format!("Vec<{}>", rust_ty(t)),
        Ty::Option(t) => format!("Option<{}>", rust_ty(t)),
        Ty::Result(ok, err) => {
            let side = |t: &Option<Box<Ty>>| t.as_ref().map_or("()".into(), |t| rust_ty(t));
            format!("Result<{}, {}>", side(ok), side(err))
        }
        Ty::Tuple(ts) => {
            let items: Vec<String> = ts.iter().map(|t| rust_ty(t) + ",").collect();
            format!("({})", items.join(" "))
        }
        Ty::Named(i) => format!("T{i}"),
    }
}

/// The WIT spelling of `ty`.
pub fn wit_ty(ty: &Ty) -> String {
    match ty {
        Ty::Bool => "bool".into(),
        Ty::U8 => "u8".into(),
        Ty::S8 => "s8".into(),
        Ty::U16 => "u16".into(),
        Ty::S16 => "s16".into(),
        Ty::U32 => "u32".into(),
        Ty::S32 => "s32".into(),
        Ty::U64 => "u64".into(),
        Ty::S64 => "s64".into(),
        Ty::F32 => "f32".into(),
        Ty::F64 => "f64".into(),
        Ty::Char => "char".into(),
        Ty::String => "string".into(),
        Ty::List(t) => format!("list<{}>", wit_ty(t)),
        Ty::Option(t) => format!("option<{}>", wit_ty(t)),
        Ty::Result(None, None) => "result".into(),
        Ty::Result(Some(ok), None) => format!("result<{}>", wit_ty(ok)),
        Ty::Result(None, Some(err)) => format!("result<_, {}>", wit_ty(err)),
        Ty::Result(Some(ok), Some(err)) => format!("result<{}, {}>", wit_ty(ok), wit_ty(err)),
        Ty::Tuple(ts) => {
            let items: Vec<String> = ts.iter().map(wit_ty).collect();
            format!("tuple<{}>", items.join(", "))
        }
        Ty::Named(i) => format!("t{i}"),
    }
}

/// An edge value from `edges` or a random one.
fn int(rng: &mut Rng, edges: &[u64]) -> u64 {
    if rng.chance(40) {
        edges[rng.below(edges.len())]
    } else {
        rng.next_u64()
    }
}

fn f32_value(rng: &mut Rng) -> f32 {
    const EDGES: [f32; 9] = [
        0.0,
        -0.0,
        1.5,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        f32::MIN_POSITIVE,
        f32::MAX,
        f32::from_bits(1),
    ];
    if rng.chance(40) {
        return EDGES[rng.below(EDGES.len())];
    }
    let x = f32::from_bits(rng.next_u64() as u32);
    // Only the canonical NaN: a NaN's payload is not promised to survive.
    if x.is_nan() { f32::NAN } else { x }
}

fn f64_value(rng: &mut Rng) -> f64 {
    const EDGES: [f64; 9] = [
        0.0,
        -0.0,
        -2.5,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        f64::MIN_POSITIVE,
        f64::MIN,
        f64::from_bits(1),
    ];
    if rng.chance(40) {
        return EDGES[rng.below(EDGES.len())];
    }
    let x = f64::from_bits(rng.next_u64());
    if x.is_nan() { f64::NAN } else { x }
}

fn char_value(rng: &mut Rng) -> char {
    const EDGES: [char; 8] = [
        'a',
        '\0',
        'ß',
        '\u{7f}',
        '\u{d7ff}',
        '\u{e000}',
        '🦀',
        '\u{10ffff}',
    ];
    if rng.chance(50) {
        return EDGES[rng.below(EDGES.len())];
    }
    loop {
        if let Some(c) = char::from_u32(rng.below(0x11_0000) as u32) {
            return c;
        }
    }
}

fn string_value(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => String::new(),
        1 => (0..rng.range(1, 12))
            .map(|_| (b'a' + rng.below(26) as u8) as char)
            .collect(),
        _ => (0..rng.range(1, 8)).map(|_| char_value(rng)).collect(),
    }
}

/// The typed host side of world `w-sN`, a module `sN` for `build.rs` to
/// write: the generated host bindings (included from `OUT_DIR/random`), an
/// `Imports` that implements `echo-sN` by checking each call's arguments
/// against the values the export was called with and handing them back,
/// and `run`, which calls every export through the typed bindings.
pub fn host_module(world: &World) -> String {
    let s = world.seed;
    let n = world.funcs.len();
    let mut out = format!(
        "/// World `w-s{s}` through its generated host bindings.\n\
         pub mod s{s} {{\n\
         /// `wcomp bind --lang rust --host` of world `w-s{s}`.\n\
         pub mod bindings {{\n    include!(concat!(env!(\"OUT_DIR\"), \"/random/s{s}.rs\"));\n}}\n\
         #[allow(unused_imports)]\nuse bindings::types_s{s}::*;\n\n\
         /// What the guest's imports received: calls so far, per function.\n\
         #[derive(Default)]\npub struct Imports {{\n    pub calls: [usize; {n}],\n}}\n\n\
         impl bindings::types_s{s}::Host for Imports {{}}\n\n\
         impl bindings::echo_s{s}::Host for Imports {{\n"
    );
    for (i, f) in world.funcs.iter().enumerate() {
        let params: Vec<String> = f
            .params
            .iter()
            .enumerate()
            .map(|(j, t)| format!("p{j}: {}", rust_ty(t)))
            .collect();
        let names: Vec<String> = (0..f.params.len()).map(|j| format!("p{j},")).collect();
        let back = if f.params.len() == 1 { "got.0" } else { "got" };
        let _ = writeln!(
            out,
            "    fn f{i}(&mut self, {}) -> wasmtime::Result<{}> {{\n        \
             let call = self.calls[{i}];\n        self.calls[{i}] += 1;\n        \
             let got = ({});\n        let want = f{i}_args(call);\n        \
             if format!(\"{{got:?}}\") != format!(\"{{want:?}}\") {{\n            \
             return Err(wasmtime::format_err!(\"import f{i}, call {{call}}: received {{got:?}}, sent {{want:?}}\"));\n        \
             }}\n        Ok({back})\n    }}",
            params.join(", "),
            rust_ty(&f.result()),
            names.join(" "),
        );
    }
    out += "}\n";
    for (i, f) in world.funcs.iter().enumerate() {
        let ty = rust_ty(&Ty::Tuple(f.params.clone()));
        let _ = writeln!(
            out,
            "\n/// The arguments of each call of `f{i}`.\nfn f{i}_args(call: usize) -> {ty} {{\n    match call {{"
        );
        for (c, args) in f.calls.iter().enumerate() {
            let value = world.rust_value(&Ty::Tuple(f.params.clone()), &Value::Tuple(args.clone()));
            let arm = if c + 1 == f.calls.len() {
                "_".to_string()
            } else {
                c.to_string()
            };
            let _ = writeln!(out, "        {arm} => {value},");
        }
        out += "    }\n}\n";
    }
    let _ = write!(
        out,
        "\n/// Calls each export of `echo-s{s}` through the typed bindings, with\n\
         /// each call's arguments; checks the answer and that the import was\n\
         /// called once.\n\
         pub fn run<T: 'static>(\n    store: &mut wasmtime::Store<T>,\n    \
         instance: &wasmtime::component::Instance,\n    imports: fn(&mut T) -> &mut Imports,\n\
         ) -> Result<(), String> {{\n    \
         let world = bindings::WS{s}::from_instance(&mut *store, instance).map_err(|e| format!(\"{{e:?}}\"))?;\n    \
         let guest = world.echo_s{s}();\n    \
         for call in 0..{calls} {{\n",
        calls = CALLS
    );
    for (i, f) in world.funcs.iter().enumerate() {
        let args: Vec<String> = f
            .params
            .iter()
            .enumerate()
            .map(|(j, t)| match t {
                Ty::String | Ty::List(_) => format!("&args.{j}"),
                _ => format!("args.{j}"),
            })
            .collect();
        let want = if f.params.len() == 1 {
            "f{i}_args(call).0"
        } else {
            "f{i}_args(call)"
        }
        .replace("{i}", &i.to_string());
        let _ = writeln!(
            out,
            "        let args = f{i}_args(call);\n        \
             let got = guest.call_f{i}(&mut *store, {}).map_err(|e| format!(\"export f{i}, call {{call}}: {{}}\", e.root_cause()))?;\n        \
             let want = {want};\n        \
             if format!(\"{{got:?}}\") != format!(\"{{want:?}}\") {{\n            \
             return Err(format!(\"export f{i}, call {{call}}: answered {{got:?}}, sent {{want:?}}\"));\n        }}\n        \
             if imports(store.data_mut()).calls[{i}] != call + 1 {{\n            \
             return Err(format!(\"export f{i}, call {{call}}: the import was not called once\"));\n        }}",
            args.join(", ")
        );
    }
    let _ = write!(
        out,
        "    }}\n    Ok(())\n}}\n\n\
         /// Defines `w-s{s}`'s imports in `linker`.\n\
         pub fn add_to_linker<T: 'static>(\n    linker: &mut wasmtime::component::Linker<T>,\n    \
         imports: fn(&mut T) -> &mut Imports,\n) -> wasmtime::Result<()> {{\n    \
         bindings::WS{s}::add_to_linker(linker, imports)\n}}\n}}\n"
    );
    out
}

/// The seeds `WCOMP_RANDOM_SEEDS` names (`7`, `1,5,9`, `100..200`), else
/// `0..100`.
pub fn seeds(spec: Option<&str>) -> Result<Vec<u64>, String> {
    let Some(spec) = spec.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok((0..DEFAULT_WORLDS).collect());
    };
    let mut seeds = Vec::new();
    for part in spec.split(',') {
        let part = part.trim();
        let number = |s: &str| {
            s.trim().parse::<u64>().map_err(|_| {
                format!(
                    "WCOMP_RANDOM_SEEDS: `{s}` is not a seed (a number, `A..B`, or a comma list)"
                )
            })
        };
        match part.split_once("..") {
            Some((a, b)) => seeds.extend(number(a)?..number(b)?),
            None => seeds.push(number(part)?),
        }
    }
    seeds.sort_unstable();
    seeds.dedup();
    Ok(seeds)
}

/// The worlds CI runs.
pub const DEFAULT_WORLDS: u64 = 100;
/// Worlds per guest crate: few crates, so few guest builds.
pub const BATCH: usize = 25;
