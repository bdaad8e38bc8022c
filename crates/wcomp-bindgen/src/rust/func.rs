//! Functions: the Rust items around each planned function (the imported
//! function, the export's shim and `export!` entry, the post-return
//! function, the trait method a user implements). Their bodies are the
//! plan's call sequences, driven through [`Body`].

use std::fmt::Write as _;

use wcomp_abi::{CoreName, FunctionPlan, drive};
use wit_parser::FunctionKind;
use wit_parser::abi::WasmType;

use super::body::{Body, Mode, core_ty};
use super::names::snake;
use super::resource::{fn_name, owner_resource, shim_stem};
use super::{Gen, docs};
use crate::BindError;

/// Modules carry [`ALLOW`](super::ALLOW); world-level functions sit at the
/// root of the file, which may be the user's crate root, so they carry it
/// themselves.
fn root_allow(path: &[String], out: &mut String) {
    if path.is_empty() {
        out.push_str(super::ALLOW);
        out.push('\n');
    }
}

/// The Rust signature of a core function (`(_: i32, ..) -> i32`).
pub(super) fn core_signature(sig: &wit_parser::abi::WasmSignature) -> Result<String, BindError> {
    signature(&sig.params, &sig.results, false)
}

fn signature(params: &[WasmType], results: &[WasmType], names: bool) -> Result<String, BindError> {
    let ps: Vec<String> = params
        .iter()
        .enumerate()
        .map(|(i, t)| {
            if names {
                format!("arg{i}: {}", core_ty(*t))
            } else {
                format!("_: {}", core_ty(*t))
            }
        })
        .collect();
    let ret = match results {
        [] => String::new(),
        [r] => format!(" -> {}", core_ty(*r)),
        _ => {
            return Err(BindError::Internal(
                "a guest core signature with several results".into(),
            ));
        }
    };
    Ok(format!("({}){ret}", ps.join(", ")))
}

fn result_ty(g: &Gen<'_>, f: &FunctionPlan, path: &[String]) -> String {
    match &f.function.result {
        Some(t) => format!(" -> {}", g.ty(t, path)),
        None => String::new(),
    }
}

/// A constructor's result: `Self`, or `Result<Self, E>` for a fallible
/// one (`constructor(..) -> result<r, e>`).
fn ctor_result(g: &Gen<'_>, f: &FunctionPlan, path: &[String]) -> String {
    match g.ctor_error(f) {
        Some(err) => {
            let err = err.map_or("()".to_string(), |t| g.ty(&t, path));
            format!(" -> Result<Self, {err}>")
        }
        None => " -> Self".to_string(),
    }
}

/// How an import's function is spelled: the imported function a user
/// calls, or an async export's task-return function.
pub(super) struct ImportSpelling {
    pub name: String,
    pub public: bool,
    /// The WIT docs go on it.
    pub docs: bool,
}

/// An imported function: a plain Rust function (an `async fn` for an
/// `async func`) that lowers its arguments, calls the core import and
/// lifts the result, as its call sequence says.
pub(super) fn import(
    g: &Gen<'_>,
    f: &FunctionPlan,
    path: &[String],
    out: &mut String,
) -> Result<(), BindError> {
    let spelling = ImportSpelling {
        name: fn_name(f),
        public: true,
        docs: true,
    };
    import_with(g, f, path, out, spelling)
}

/// [`import`], named and shown as `spelling` says.
pub(super) fn import_with(
    g: &Gen<'_>,
    f: &FunctionPlan,
    path: &[String],
    out: &mut String,
    spelling: ImportSpelling,
) -> Result<(), BindError> {
    let CoreName::Import { module, field } = &f.core_name else {
        return Err(BindError::Internal(format!(
            "import `{}` has an export's core name",
            f.function.name
        )));
    };
    let params = rust_params(f, |p| {
        format!("{}: {}", snake(&p.name), g.param_ty(&p.ty, path))
    });
    if spelling.docs {
        docs(&f.function.docs, out);
    }
    root_allow(path, out);
    let _ = writeln!(
        out,
        "{}{}fn {}({}){} {{\nunsafe {{",
        if spelling.public { "pub " } else { "" },
        if f.asynchronous.is_some() {
            "async "
        } else {
            ""
        },
        spelling.name,
        params.join(", "),
        match f.function.kind {
            FunctionKind::Constructor(_) => ctor_result(g, f, path),
            _ => result_ty(g, f, path),
        }
    );
    let sig = signature(&f.signature.params, &f.signature.results, false)?;
    let _ = writeln!(
        out,
        "#[cfg(target_arch = \"wasm32\")]\n#[link(wasm_import_module = {module:?})]\n\
         unsafe extern \"C\" {{\n#[link_name = {field:?}]\nfn wit_import{sig};\n}}\n\
         #[cfg(not(target_arch = \"wasm32\"))]\nunsafe extern \"C\" fn wit_import{sig} {{ unreachable!() }}"
    );
    let mut b = Body::new(g, f, path, Mode::Import);
    drive(&f.call, &mut b).map_err(|e| e.writing(f))?;
    if b.cleanup {
        let _ = writeln!(
            out,
            "let mut cleanup: Vec<(*mut u8, usize, usize)> = Vec::new();"
        );
    }
    out.push_str(&b.out);
    if let Some(r) = b.result {
        let _ = writeln!(out, "{r}");
    }
    out.push_str("}\n}\n");
    Ok(())
}

/// The Rust parameters of `f`: `&self` for a method's receiver, `spell`
/// for every other parameter.
fn rust_params(f: &FunctionPlan, spell: impl Fn(&wit_parser::Param) -> String) -> Vec<String> {
    let method = matches!(f.function.kind, FunctionKind::Method(_));
    f.function
        .params
        .iter()
        .enumerate()
        .map(|(i, p)| match i {
            0 if method => "&self".to_string(),
            _ => spell(p),
        })
        .collect()
}

/// The signature of the trait method a user implements for export `f`,
/// spelled from module `path`; `prefix` goes before parameter names.
/// `implemented`: as an impl writes it (an `async fn` for an async
/// export), rather than as the trait declares it.
fn trait_sig(
    g: &Gen<'_>,
    f: &FunctionPlan,
    path: &[String],
    prefix: &str,
    implemented: bool,
) -> String {
    let own = owner_resource(f);
    let params = rust_params(f, |p| {
        let name = snake(&p.name);
        let name = match prefix {
            "" => name,
            _ => format!("{prefix}{}", name.trim_start_matches("r#")),
        };
        format!("{name}: {}", g.trait_param_ty(&p.ty, path, own, f))
    });
    let result = match f.function.kind {
        // A fallible constructor returns `Result<Self, E>`, which needs a
        // sized `Self` (the resource traits do not require one).
        FunctionKind::Constructor(_) if g.ctor_error(f).is_some() => {
            format!("{} where Self: Sized", ctor_result(g, f, path))
        }
        FunctionKind::Constructor(_) => ctor_result(g, f, path),
        _ if f.asynchronous.is_some() && implemented => result_ty(g, f, path),
        // Implemented as `async fn`; spelled so, it needs no lint allowed.
        _ if f.asynchronous.is_some() => {
            let output = f
                .function
                .result
                .map_or("()".to_string(), |t| g.ty(&t, path));
            format!(" -> impl core::future::Future<Output = {output}>")
        }
        _ => result_ty(g, f, path),
    };
    let asyncness = if f.asynchronous.is_some() && implemented {
        "async "
    } else {
        ""
    };
    format!(
        "{asyncness}fn {}({}){result}",
        fn_name(f),
        params.join(", ")
    )
}

/// The trait method a user implements for an export.
pub(super) fn trait_method(g: &Gen<'_>, f: &FunctionPlan, path: &[String], out: &mut String) {
    docs(&f.function.docs, out);
    let _ = writeln!(out, "{};", trait_sig(g, f, path, "", false));
}

/// A stub of an export's trait method, written at the file's root.
pub(super) fn stub_method(g: &Gen<'_>, f: &FunctionPlan, out: &mut String) {
    let _ = writeln!(
        out,
        "{} {{\nunimplemented!()\n}}",
        trait_sig(g, f, &[], "_", true)
    );
}

/// An export: a generic shim lifting the arguments, calling `T`'s trait
/// method and lowering the result (its call sequence), plus its
/// post-return function, and the `export!` macro's core exports calling
/// them.
pub(super) fn export(
    g: &Gen<'_>,
    f: &FunctionPlan,
    path: &[String],
    out: &mut String,
    macro_body: &mut String,
) -> Result<(), BindError> {
    let CoreName::Export { name } = &f.core_name else {
        return Err(BindError::Internal(format!(
            "export `{}` has an import's core name",
            f.function.name
        )));
    };
    let stem = shim_stem(g, f);
    let shim = format!("_export_{stem}");
    let sig = signature(&f.signature.params, &f.signature.results, true)?;
    root_allow(path, out);
    // An async export's task owns a future of `T`'s making.
    let bound = match f.asynchronous {
        Some(_) => "Guest + 'static",
        None => "Guest",
    };
    let _ = writeln!(
        out,
        "#[doc(hidden)]\npub unsafe fn {shim}<T: {bound}>{sig} {{\nunsafe {{"
    );
    let mut b = Body::new(g, f, path, Mode::Export);
    drive(&f.call, &mut b).map_err(|e| e.writing(f))?;
    if b.lent {
        let _ = writeln!(
            out,
            "let mut lent: Vec<Box<core::sync::atomic::AtomicU32>> = Vec::new();"
        );
    }
    out.push_str(&b.out);
    out.push_str("}\n}\n");

    let mpath = path.join("::");
    let sep = if mpath.is_empty() { "" } else { "::" };
    // The core exports of every interface share the macro's scope.
    let unique = super::names::path_ident(path);
    let args: Vec<String> = (0..f.signature.params.len())
        .map(|i| format!("arg{i}"))
        .collect();
    let _ = writeln!(
        macro_body,
        "#[unsafe(export_name = {name:?})]\nunsafe extern \"C\" fn {unique}{shim}{sig} {{\n\
         unsafe {{ $PATH{sep}{mpath}::{shim}::<$ty>({}) }}\n}}",
        args.join(", ")
    );

    if f.asynchronous.is_some() {
        super::task::export_items(g, f, path, out, macro_body)?;
    }
    if let Some(post) = &f.post_return {
        let post_fn = format!("_post_{stem}");
        let mut b = Body::new(g, f, path, Mode::PostReturn);
        drive(&post.steps, &mut b).map_err(|e| e.writing(f))?;
        root_allow(path, out);
        let _ = writeln!(
            out,
            "#[doc(hidden)]\npub unsafe fn {post_fn}(arg0: *mut u8) {{\nunsafe {{\n{}}}\n}}",
            b.out
        );
        let _ = writeln!(
            macro_body,
            "#[unsafe(export_name = {:?})]\nunsafe extern \"C\" fn {unique}{post_fn}(arg0: *mut u8) {{\n\
             unsafe {{ $PATH{sep}{mpath}::{post_fn}(arg0) }}\n}}",
            post.name
        );
    }
    Ok(())
}
