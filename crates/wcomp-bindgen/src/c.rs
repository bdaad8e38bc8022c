//! The C backend: spells a [`WorldPlan`] as C11 for wasm32 (clang), in
//! three files per world:
//!
//! * `<world>.h`: the types, the `_free` functions, the functions the
//!   guest imports (to call) and exports (to implement), with who frees
//!   what in every function's comment;
//! * `<world>.c`: the bodies (each the plan's call sequence, spelled by
//!   the private `body` module), `cabi_realloc`, the core exports calling
//!   the user's functions, and their post-return functions;
//! * `<world>_component_type.c`: the world's component type as bytes in a
//!   `component-type` custom section, so `wcomp new` needs no `--wit`.
//!
//! Every name starts with the world's (`keystore_`), then the interface's
//! path (`keystore_store_get`; exports under `keystore_exports_`). C's own
//! layout of every generated type is the canonical ABI's on wasm32 (the
//! `.c` file asserts it type by type), so strings, lists and maps cross as
//! the user's buffers, without per-element copies.
//!
//! This backend never computes a layout, a flattening or the order of a
//! call itself: it spells the plan's steps, types (the private `types`
//! module) and functions (`func`).

mod body;
mod func;
mod task;
#[cfg(test)]
mod tests;
mod types;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use heck::{ToShoutySnakeCase, ToSnakeCase};
use wit_parser::{Docs, FunctionKind, InterfaceId, Resolve, TypeOwner, WorldId, WorldItem};

use crate::abi::{Direction, FunctionPlan, WorldPlan};
use crate::{BindError, Files};

/// Options of the C backend (none yet: the output has one shape).
#[derive(Debug, Clone, Default)]
pub struct Opts {}

impl Opts {
    /// Generates the bindings of `world`: `<world>.h`, `<world>.c` and
    /// `<world>_component_type.c`.
    pub fn generate(&self, resolve: &Resolve, world: WorldId) -> Result<Files, BindError> {
        let options = wcomp_abi::Options {
            async_calls: true,
            streams: true,
            ..Default::default()
        };
        let plan = WorldPlan::with_options(resolve, world, options)?;
        // The plan's copy of the resolve, with nominal ids: every id below
        // is of this one.
        let resolve = plan.resolve();
        let g = Gen::new(resolve, world, &plan);
        let mut files = Files::default();
        let (header, source) = g.header_and_source()?;
        files.insert(format!("{}.h", g.w), header);
        files.insert(format!("{}.c", g.w), source);
        files.insert(format!("{}_component_type.c", g.w), g.component_type()?);
        Ok(files)
    }
}

/// C keywords, the names `<stdbool.h>` defines, and C++ keywords (the
/// header is usable from C++): an identifier that is one gets a `_`.
const KEYWORDS: &[&str] = &[
    "auto",
    "break",
    "case",
    "char",
    "const",
    "continue",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "extern",
    "float",
    "for",
    "goto",
    "if",
    "inline",
    "int",
    "long",
    "register",
    "restrict",
    "return",
    "short",
    "signed",
    "sizeof",
    "static",
    "struct",
    "switch",
    "typedef",
    "union",
    "unsigned",
    "void",
    "volatile",
    "while",
    "bool",
    "true",
    "false",
    "alignas",
    "alignof",
    "and",
    "asm",
    "catch",
    "class",
    "constexpr",
    "delete",
    "explicit",
    "export",
    "friend",
    "mutable",
    "namespace",
    "new",
    "noexcept",
    "not",
    "nullptr",
    "operator",
    "or",
    "private",
    "protected",
    "public",
    "template",
    "this",
    "throw",
    "try",
    "typeid",
    "typename",
    "using",
    "virtual",
    "xor",
];

/// Names the bodies use for their own variables and the library functions
/// they call: a parameter so named gets a `_`.
const LOCALS: &[&str] = &[
    "base",
    "ret_base",
    "params_area",
    "ret_area",
    "ret",
    "result",
    "free",
    "malloc",
    "realloc",
    "abort",
    "memcpy",
    "strlen",
];

/// `snake_case`, as a C identifier on its own (a field, a parameter).
pub(crate) fn ident(name: &str) -> String {
    let s = name.to_snake_case();
    if KEYWORDS.contains(&s.as_str()) || s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("{s}_")
    } else {
        s
    }
}

/// A segment of a longer name (`keystore_store_get`): never alone, so
/// keywords need no escape.
pub(crate) fn segment(name: &str) -> String {
    name.to_snake_case()
}

/// Generation state shared by the type and function writers.
pub(crate) struct Gen<'a> {
    pub resolve: &'a Resolve,
    pub world: WorldId,
    pub plan: &'a WorldPlan,
    /// The world's name in snake case: the first segment of every name.
    pub w: String,
    /// The name prefix of each interface (`keystore_store`,
    /// `keystore_exports_store`). Ids are nominal: an interface the world
    /// uses twice is two ids, two prefixes.
    prefixes: BTreeMap<InterfaceId, String>,
}

impl<'a> Gen<'a> {
    fn new(resolve: &'a Resolve, world: WorldId, plan: &'a WorldPlan) -> Gen<'a> {
        let w = &resolve.worlds[world];
        let world_name = segment(&w.name);
        let versioned = crate::paths::packages_in_several_versions(resolve, world);
        let mut prefixes = BTreeMap::new();
        for (exports, items) in [(false, &w.imports), (true, &w.exports)] {
            for (key, item) in items {
                if let WorldItem::Interface { id, .. } = item {
                    let mut path =
                        crate::paths::key_path(resolve, world, key, *id, &versioned, segment);
                    // An imported interface (or namespace) named `exports`
                    // must not share the exports' prefix.
                    if !exports && path.first().is_some_and(|s| s == "exports") {
                        path[0] = "exports_".into();
                    }
                    let mut prefix = world_name.clone();
                    if exports {
                        prefix.push_str("_exports");
                    }
                    for s in path {
                        prefix.push('_');
                        prefix.push_str(&s);
                    }
                    prefixes.insert(*id, prefix);
                }
            }
        }
        Gen {
            resolve,
            world,
            plan,
            w: world_name,
            prefixes,
        }
    }

    /// The prefix of the names of what `owner` defines.
    pub fn owner_prefix(&self, owner: TypeOwner) -> String {
        match owner {
            TypeOwner::Interface(i) => self
                .prefixes
                .get(&i)
                .cloned()
                .unwrap_or_else(|| self.w.clone()),
            TypeOwner::World(_) | TypeOwner::None => self.w.clone(),
        }
    }

    /// The prefix of function `f`'s names: its interface's, or the world's
    /// (`keystore_exports` for a world-level export).
    pub fn func_prefix(&self, f: &FunctionPlan) -> String {
        let w = &self.resolve.worlds[self.world];
        let items = match f.direction {
            Direction::Import => &w.imports,
            Direction::Export => &w.exports,
        };
        let interface = f.interface.as_ref().and_then(|k| match items.get(k) {
            Some(WorldItem::Interface { id, .. }) => Some(*id),
            _ => None,
        });
        match (interface, f.direction) {
            (Some(i), _) => self.owner_prefix(TypeOwner::Interface(i)),
            (None, Direction::Import) => self.w.clone(),
            (None, Direction::Export) => format!("{}_exports", self.w),
        }
    }

    /// The C name of function `f`: `{prefix}_{name}`, and for a resource's
    /// functions `{prefix}_method_{r}_{m}`, `_static_{r}_{m}` or
    /// `_constructor_{r}`.
    pub fn func_name(&self, f: &FunctionPlan) -> String {
        let p = self.func_prefix(f);
        let r = |id| segment(self.resolve.types[id].name.as_deref().unwrap_or("resource"));
        let item = segment(f.function.item_name());
        match f.function.kind {
            FunctionKind::Method(id) => format!("{p}_method_{}_{item}", r(id)),
            FunctionKind::Static(id) => format!("{p}_static_{}_{item}", r(id)),
            FunctionKind::Constructor(id) => format!("{p}_constructor_{}", r(id)),
            _ => format!("{p}_{item}"),
        }
    }

    /// `KEYSTORE_STORE_ERROR_NOT_FOUND`: a macro name from a type's name
    /// (without `_t`) and a case or flag.
    pub fn macro_name(type_name: &str, case: &str) -> String {
        format!(
            "{}_{}",
            type_name.trim_end_matches("_t").to_shouty_snake_case(),
            case.to_shouty_snake_case()
        )
    }

    fn header_and_source(&self) -> Result<(String, String), BindError> {
        let w = &self.resolve.worlds[self.world];
        let generated = format!(
            "// Generated by `wcomp bind --lang c` for world `{}`. Do not edit.\n",
            w.name
        );
        let guard = format!("WCOMP_{}_H", self.w.to_shouty_snake_case());
        let mut prologue = generated.clone();
        let _ = writeln!(
            prologue,
            "//\n// Ownership: the arguments of an imported function stay the caller's;\n\
             // what it returns becomes the caller's, freed with the `_free` function of\n\
             // its type. An exported function owns its arguments (free them with the\n\
             // `_free` functions, or keep them); what it returns is handed over and freed\n\
             // by these bindings after the call, so its buffers must come from `malloc`.\n\
             // Empty strings and lists may have a NULL `ptr`.\n\
             #ifndef {guard}\n#define {guard}\n\n\
             #include <stdbool.h>\n#include <stddef.h>\n#include <stdint.h>\n\n\
             #ifdef __cplusplus\nextern \"C\" {{\n#endif\n"
        );
        let mut h = String::new();
        let mut c = String::new();

        let types = self.types()?;
        h.push_str(&types.header);
        c.push_str(&types.source);

        self.string_helpers(&mut h, &mut c);
        c.push_str(REALLOC);
        self.ret_area(&mut c);
        let payloads = wcomp_abi::AsyncWorldPlan::new(self.resolve, self.world)?.payloads;
        if self.plan.has_async_calls() || !payloads.is_empty() {
            self.async_support(&mut h, &mut c)?;
        }
        if !payloads.is_empty() {
            self.payload_functions(&payloads, &mut h, &mut c)?;
        }
        for r in &self.plan.resources {
            func::resource(self, r, &mut h, &mut c)?;
        }
        let mut imports = String::new();
        for f in &self.plan.imports {
            func::import(self, f, &mut imports, &mut c)?;
        }
        if !imports.is_empty() {
            let _ = writeln!(h, "\n// Imported functions: call them.\n\n{imports}");
        }
        let mut exports = String::new();
        for f in &self.plan.exports {
            func::export(self, f, &mut exports, &mut c)?;
        }
        if !exports.is_empty() {
            let _ = writeln!(h, "\n// Exported functions: implement them.\n\n{exports}");
        }
        // `extern "C" {` wraps the header without indenting it.
        let header = format!(
            "{prologue}{}\n#ifdef __cplusplus\n}}\n#endif\n\n#endif // {guard}\n",
            indent(&h)
        );
        // Only the helpers the bodies call: unused static functions warn.
        let helpers: String = HELPERS
            .lines()
            .filter(|line| helper_name(line).is_some_and(|name| c.contains(&format!("{name}("))))
            .map(|line| format!("{line}\n"))
            .collect();
        let source = format!(
            "{generated}#include \"{}.h\"\n\n#include <stdlib.h>\n#include <string.h>\n\n{helpers}\n{}",
            self.w,
            indent(&c)
        );
        Ok((header, source))
    }

    fn string_helpers(&self, h: &mut String, c: &mut String) {
        let w = &self.w;
        let _ = writeln!(
            h,
            "\n// Sets `*ret` to the NUL-terminated `s`, borrowed (not copied): for\n\
             // arguments of imported functions.\n\
             void {w}_string_set({w}_string_t *ret, const char *s);\n\
             // Sets `*ret` to a copy of the NUL-terminated `s`, in memory from `malloc`.\n\
             void {w}_string_dup({w}_string_t *ret, const char *s);\n\
             // Sets `*ret` to a copy of the `len` bytes at `s` (UTF-8), in memory from\n\
             // `malloc` (NULL when `len` is 0).\n\
             void {w}_string_dup_n({w}_string_t *ret, const uint8_t *s, size_t len);"
        );
        let _ = writeln!(
            c,
            "void {w}_string_set({w}_string_t *ret, const char *s) {{\n\
             ret->ptr = (uint8_t *)s;\nret->len = strlen(s);\n}}\n\n\
             void {w}_string_dup({w}_string_t *ret, const char *s) {{\n\
             {w}_string_dup_n(ret, (const uint8_t *)s, strlen(s));\n}}\n\n\
             void {w}_string_dup_n({w}_string_t *ret, const uint8_t *s, size_t len) {{\n\
             ret->len = len;\nif (len == 0) {{\nret->ptr = NULL;\nreturn;\n}}\n\
             ret->ptr = (uint8_t *)malloc(len);\nif (ret->ptr == NULL) {{\nabort();\n}}\n\
             memcpy(ret->ptr, s, len);\n}}\n"
        );
    }

    /// The return area every export writes its result to (one: the guest
    /// runs one call at a time, and the area lives until post-return).
    fn ret_area(&self, c: &mut String) {
        let (size, align) = self
            .plan
            .exports
            .iter()
            .filter_map(|f| f.return_area)
            .fold((0, 1), |(s, a), l| (s.max(l.size), a.max(l.align)));
        if size > 0 {
            let _ = writeln!(
                c,
                "// Where exports put their results until post-return.\n\
                 static _Alignas({align}) uint8_t {}_ret_area[{size}];\n",
                self.w
            );
        }
    }

    /// `<world>_component_type.c`: the component type in a custom section.
    /// (clang 16 puts data with a `section` attribute into a data segment,
    /// so the section is made by a file-scope `.section` directive, which
    /// clang and wasm-ld turn into the custom section.)
    fn component_type(&self) -> Result<String, BindError> {
        let w = &self.resolve.worlds[self.world];
        let bytes = wit_component::metadata::encode(
            self.resolve,
            self.world,
            wit_component::StringEncoding::UTF8,
            None,
            false,
        )
        .map_err(|e| BindError::Encode {
            world: w.name.clone(),
            message: format!("{e:#}"),
        })?;
        let mut s = format!(
            "// Generated by `wcomp bind --lang c` for world `{}`. Do not edit.\n//\n\
             // The world's component type ({} bytes), for `wcomp new` and other\n\
             // wrappers: wasm-ld keeps it as the custom section\n\
             // `component-type:wcomp:{}` (unless the module is stripped). It is\n\
             // written in pieces, each a string short enough for ISO C.\n",
            w.name,
            bytes.len(),
            w.name,
        );
        let section = format!(
            "\".section \\\".custom_section.component-type:wcomp:{}\\\",\\\"\\\",@\\n\"",
            w.name
        );
        for piece in bytes.chunks(16 * 32) {
            let _ = writeln!(s, "\n__asm__(\n{section}");
            for row in piece.chunks(16) {
                let hex: Vec<String> = row.iter().map(|b| format!("{b:#04x}")).collect();
                let shown: String = row
                    .iter()
                    .map(|&b| match b {
                        b'a'..=b'z'
                        | b'A'..=b'Z'
                        | b'0'..=b'9'
                        | b'-'
                        | b':'
                        | b'/'
                        | b'@'
                        | b'.' => b as char,
                        _ => ' ',
                    })
                    .collect();
                let _ = writeln!(s, "\".byte {}\\n\" // {}", hex.join(", "), shown.trim_end());
            }
            s.push_str("\".text\\n\");\n");
        }
        Ok(s)
    }
}

/// Comment lines from WIT docs.
pub(crate) fn docs(docs: &Docs, out: &mut String) {
    if let Some(text) = &docs.contents {
        for line in text.lines() {
            let _ = writeln!(out, "// {}", line.trim_end());
        }
    }
}

/// Load, store and bit-cast helpers the bodies use: `memcpy` reads and
/// writes unaligned-safe and without aliasing questions, and compiles to
/// single loads and stores.
const HELPERS: &str = r#"static inline int32_t wcomp_load_u8(const uint8_t *p) { uint8_t v; memcpy(&v, p, 1); return v; }
static inline int32_t wcomp_load_s8(const uint8_t *p) { int8_t v; memcpy(&v, p, 1); return v; }
static inline int32_t wcomp_load_u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline int32_t wcomp_load_s16(const uint8_t *p) { int16_t v; memcpy(&v, p, 2); return v; }
static inline int32_t wcomp_load_i32(const uint8_t *p) { int32_t v; memcpy(&v, p, 4); return v; }
static inline int64_t wcomp_load_i64(const uint8_t *p) { int64_t v; memcpy(&v, p, 8); return v; }
static inline float wcomp_load_f32(const uint8_t *p) { float v; memcpy(&v, p, 4); return v; }
static inline double wcomp_load_f64(const uint8_t *p) { double v; memcpy(&v, p, 8); return v; }
static inline uint8_t *wcomp_load_ptr(const uint8_t *p) { uint8_t *v; memcpy(&v, p, sizeof v); return v; }
static inline size_t wcomp_load_len(const uint8_t *p) { size_t v; memcpy(&v, p, sizeof v); return v; }
static inline void wcomp_store_u8(uint8_t *p, int32_t v) { uint8_t x = (uint8_t)v; memcpy(p, &x, 1); }
static inline void wcomp_store_u16(uint8_t *p, int32_t v) { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); }
static inline void wcomp_store_i32(uint8_t *p, int32_t v) { memcpy(p, &v, 4); }
static inline void wcomp_store_i64(uint8_t *p, int64_t v) { memcpy(p, &v, 8); }
static inline void wcomp_store_f32(uint8_t *p, float v) { memcpy(p, &v, 4); }
static inline void wcomp_store_f64(uint8_t *p, double v) { memcpy(p, &v, 8); }
static inline void wcomp_store_ptr(uint8_t *p, uint8_t *v) { memcpy(p, &v, sizeof v); }
static inline void wcomp_store_len(uint8_t *p, size_t v) { memcpy(p, &v, sizeof v); }
static inline int64_t wcomp_f32_bits(float v) { uint32_t x; memcpy(&x, &v, 4); return (int64_t)x; }
static inline int64_t wcomp_f64_bits(double v) { int64_t x; memcpy(&x, &v, 8); return x; }
static inline float wcomp_f32_from_bits(int64_t v) { uint32_t x = (uint32_t)v; float f; memcpy(&f, &x, 4); return f; }
static inline double wcomp_f64_from_bits(int64_t v) { double f; memcpy(&f, &v, 8); return f; }
"#;

/// The function a line of [`HELPERS`] defines (`wcomp_load_u8`).
fn helper_name(line: &str) -> Option<&str> {
    let start = line.find("wcomp_")?;
    let end = start + line[start..].find('(')?;
    Some(&line[start..end])
}

/// `cabi_realloc`, weak so that a module linking two worlds' bindings has
/// one. A zero-size request gets an aligned, non-NULL pointer that is never
/// freed (the frees skip empty buffers).
const REALLOC: &str = r#"
// The allocator the host uses to pass strings and lists into this module.
__attribute__((__weak__, __export_name__("cabi_realloc")))
void *cabi_realloc(void *ptr, size_t old_size, size_t align, size_t new_size) {
(void)old_size;
if (new_size == 0) {
return (void *)align;
}
void *ret = realloc(ptr, new_size);
if (ret == NULL) {
abort();
}
return ret;
}
"#;

/// Indents C by its braces (the writers emit flat lines); blank lines are
/// kept, one at most in a row.
pub(crate) fn indent(src: &str) -> String {
    let mut out = String::with_capacity(src.len() * 2);
    let mut depth: usize = 0;
    let mut blank = false;
    for line in src.lines() {
        let line = line.trim();
        if line.is_empty() {
            if !blank && !out.is_empty() {
                out.push('\n');
            }
            blank = true;
            continue;
        }
        blank = false;
        let code = code_of(line);
        let leading = code.chars().take_while(|c| *c == '}').count();
        let opens = code.chars().filter(|c| *c == '{').count();
        let closes = code.chars().filter(|c| *c == '}').count();
        for _ in 0..depth.saturating_sub(leading) {
            out.push_str("    ");
        }
        out.push_str(line);
        out.push('\n');
        depth = (depth + opens).saturating_sub(closes);
    }
    out
}

/// A line without its string literals and `//` comment, for brace counting
/// (C's and Go's lexical rules agree on both).
pub(crate) fn code_of(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    let mut in_str = false;
    while let Some(c) = chars.next() {
        if in_str {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '/' if chars.peek() == Some(&'/') => break,
            _ => out.push(c),
        }
    }
    out
}
