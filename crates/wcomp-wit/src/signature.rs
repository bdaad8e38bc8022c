//! WIT spelling of one type or function signature, for error messages that
//! show "what the WIT says" next to what a binary has.

use wit_parser::{Function, FunctionKind, Handle, Resolve, Type, TypeDefKind};

/// A type as WIT writes it at a use site: `u32`, `list<u8>`, `payload`,
/// `result<_, error>`, `borrow<file>`.
pub fn type_name(resolve: &Resolve, ty: &Type) -> String {
    type_name_at(resolve, ty, 0)
}

fn type_name_at(resolve: &Resolve, ty: &Type, depth: usize) -> String {
    let prim = match ty {
        Type::Bool => "bool",
        Type::U8 => "u8",
        Type::U16 => "u16",
        Type::U32 => "u32",
        Type::U64 => "u64",
        Type::S8 => "s8",
        Type::S16 => "s16",
        Type::S32 => "s32",
        Type::S64 => "s64",
        Type::F32 => "f32",
        Type::F64 => "f64",
        Type::Char => "char",
        Type::String => "string",
        Type::ErrorContext => "error-context",
        Type::Id(id) => {
            let def = &resolve.types[*id];
            if let Some(name) = &def.name {
                return name.clone();
            }
            // Nesting is bounded by wit-parser; this guards hand-built input.
            if depth > 64 {
                return "...".to_string();
            }
            let sub = |t: &Type| type_name_at(resolve, t, depth + 1);
            let opt = |t: &Option<Type>| t.as_ref().map_or("_".to_string(), sub);
            return match &def.kind {
                TypeDefKind::List(t) => format!("list<{}>", sub(t)),
                TypeDefKind::FixedLengthList(t, n) => format!("list<{}, {n}>", sub(t)),
                TypeDefKind::Map(k, v) => format!("map<{}, {}>", sub(k), sub(v)),
                TypeDefKind::Option(t) => format!("option<{}>", sub(t)),
                TypeDefKind::Result(r) => match (&r.ok, &r.err) {
                    (None, None) => "result".to_string(),
                    (ok, None) => format!("result<{}>", opt(ok)),
                    (ok, err) => format!("result<{}, {}>", opt(ok), opt(err)),
                },
                TypeDefKind::Tuple(t) => format!(
                    "tuple<{}>",
                    t.types.iter().map(sub).collect::<Vec<_>>().join(", ")
                ),
                TypeDefKind::Handle(Handle::Own(r)) => sub(&Type::Id(*r)),
                TypeDefKind::Handle(Handle::Borrow(r)) => format!("borrow<{}>", sub(&Type::Id(*r))),
                TypeDefKind::Future(t) => match t {
                    Some(t) => format!("future<{}>", sub(t)),
                    None => "future".to_string(),
                },
                TypeDefKind::Stream(t) => match t {
                    Some(t) => format!("stream<{}>", sub(t)),
                    None => "stream".to_string(),
                },
                TypeDefKind::Type(t) => sub(t),
                other => other.as_str().to_string(),
            };
        }
    };
    prim.to_string()
}

/// A function as WIT declares it: `get: func(key: string) -> result<payload, error>`.
/// Methods and constructors show their resource: `[method]file.read: func(...)`
/// keeps wit-parser's name, which is what core export names use too.
pub fn function(resolve: &Resolve, func: &Function) -> String {
    let params = func
        .params
        .iter()
        .map(|p| format!("{}: {}", p.name, type_name(resolve, &p.ty)))
        .collect::<Vec<_>>()
        .join(", ");
    let asynchronous = if func.kind.is_async() { "async " } else { "" };
    let result = match (&func.kind, &func.result) {
        (FunctionKind::Constructor(_), _) | (_, None) => String::new(),
        (_, Some(t)) => format!(" -> {}", type_name(resolve, t)),
    };
    format!("{}: {asynchronous}func({params}){result}", func.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keystore_signatures_read_as_written() {
        let wit = crate::load_str(
            "k.wit",
            "package a:b;
             interface store {
               type payload = list<u8>;
               variant error { not-found, other(string) }
               resource file { read: func(n: u32) -> list<u8>; }
               set: func(key: string, value: payload, ttl: option<u32>) -> result<_, error>;
               peek: func(f: borrow<file>, pair: tuple<u8, s64>) -> result;
             }",
            &Default::default(),
        )
        .unwrap();
        let iface = wit.resolve.interfaces.iter().next().unwrap().1;
        let shown = |name: &str| function(&wit.resolve, &iface.functions[name]);
        assert_eq!(
            shown("set"),
            "set: func(key: string, value: payload, ttl: option<u32>) -> result<_, error>"
        );
        assert_eq!(
            shown("peek"),
            "peek: func(f: borrow<file>, pair: tuple<u8, s64>) -> result"
        );
        assert_eq!(
            shown("[method]file.read"),
            "[method]file.read: func(self: borrow<file>, n: u32) -> list<u8>"
        );
    }
}
