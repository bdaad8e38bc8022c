//! The C backend's shape: names, ownership comments, layouts, refusals and
//! determinism. (That the output compiles and runs is checked end to end
//! in `tests/`, where clang-16 is: every world compiles, and the case
//! guests round-trip values in wasmtime.)

use super::*;

use wcomp_abi::test_support::{KEYSTORE, load};

fn generate(text: &str, world: &str) -> Files {
    let (resolve, world) = load(text, world);
    Opts::default().generate(&resolve, world).unwrap()
}

fn file<'f>(files: &'f Files, name: &str) -> &'f str {
    files.get(name).unwrap_or_else(|| {
        panic!(
            "no {name} among {:?}",
            files.iter().map(|f| f.0).collect::<Vec<_>>()
        )
    })
}

#[test]
fn keystore_world_is_three_files_named_by_world() {
    let files = generate(KEYSTORE, "keystore");
    let names: Vec<&str> = files.iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        ["keystore.c", "keystore.h", "keystore_component_type.c"]
    );
    let h = file(&files, "keystore.h");
    assert!(h.contains("#ifndef WCOMP_KEYSTORE_H"), "{h}");
    assert!(
        h.contains(
            "void keystore_exports_store_get(keystore_string_t *key, \
             keystore_result_exports_store_payload_exports_store_error_t *ret);"
        ),
        "{h}"
    );
    assert!(
        h.contains("#define KEYSTORE_EXPORTS_STORE_ERROR_INVALID_KEY 1"),
        "{h}"
    );
    let c = file(&files, "keystore.c");
    assert!(
        c.contains("__attribute__((__export_name__(\"wcomp:keystore/store@0.1.0#get\")))"),
        "{c}"
    );
    assert!(
        c.contains(
            "__attribute__((__export_name__(\"cabi_post_wcomp:keystore/store@0.1.0#get\")))"
        ),
        "{c}"
    );
    assert!(c.contains("cabi_realloc"), "{c}");
}

#[test]
fn every_function_says_who_frees_what() {
    let files = generate(KEYSTORE, "keystore");
    let h = file(&files, "keystore.h");
    // An export owns its arguments and hands its result over.
    assert!(
        h.contains(
            "// The arguments are yours: keep them, or free `key` with `keystore_string_free`."
        ),
        "{h}"
    );
    assert!(
        h.contains("// The result is handed over and freed after the call"),
        "{h}"
    );
    let files = generate(KEYSTORE, "app");
    let h = file(&files, "app.h");
    // An import's result becomes the caller's.
    assert!(
        h.contains(
            "// The result is yours: free it with `app_result_store_payload_store_error_free`."
        ),
        "{h}"
    );
    assert!(
        h.contains("void app_store_get(const app_string_t *key, app_result_store_payload_store_error_t *ret);"),
        "{h}"
    );
}

#[test]
fn every_type_asserts_its_canonical_layout() {
    let files = generate(KEYSTORE, "keystore");
    let c = file(&files, "keystore.c");
    assert!(
        c.contains(
            "_Static_assert(sizeof(keystore_exports_store_error_t) == 12 && \
             _Alignof(keystore_exports_store_error_t) == 4"
        ),
        "{c}"
    );
}

#[test]
fn names_escape_keywords_and_body_locals() {
    let wit = "package a:b;\n\
        interface i {\n\
          record r { class: u32, %type: string, int: bool }\n\
          f: func(base: u32, ret: string, t1: u8, %result: r) -> r;\n\
        }\n\
        world w { import i; export i; }";
    let files = generate(wit, "w");
    let h = file(&files, "w.h");
    assert!(h.contains("uint32_t class_;"), "{h}");
    assert!(h.contains("w_string_t type;"), "{h}");
    assert!(h.contains("bool int_;"), "{h}");
    assert!(
        h.contains(
            "void w_i_f(uint32_t base_, const w_string_t *ret_, uint8_t t1_, const w_i_r_t *result_, w_i_r_t *ret);"
        ),
        "{h}"
    );
    // An interface both imported and exported is two sets of names.
    assert!(h.contains("typedef struct w_exports_i_r_t {"), "{h}");
}

#[test]
fn resources_get_handle_types_and_functions() {
    let wit = "package a:b;\n\
        interface mine { resource counter { constructor(start: u32); add: func(n: u32) -> u32; } }\n\
        interface theirs { resource file { size: func() -> u64; } open: func() -> file; }\n\
        world w { import theirs; export mine; }";
    let files = generate(wit, "w");
    let h = file(&files, "w.h");
    for expected in [
        "typedef struct w_theirs_own_file_t {",
        "void w_theirs_file_drop_own(w_theirs_own_file_t handle);",
        "w_theirs_borrow_file_t w_theirs_borrow_file(w_theirs_own_file_t handle);",
        "uint64_t w_theirs_method_file_size(w_theirs_borrow_file_t self);",
        "typedef struct w_exports_mine_counter_t w_exports_mine_counter_t;",
        "typedef w_exports_mine_counter_t *w_exports_mine_borrow_counter_t;",
        "w_exports_mine_own_counter_t w_exports_mine_counter_new(w_exports_mine_counter_t *rep);",
        "void w_exports_mine_counter_destructor(w_exports_mine_counter_t *rep);",
        "w_exports_mine_own_counter_t w_exports_mine_constructor_counter(uint32_t start);",
        "uint32_t w_exports_mine_method_counter_add(w_exports_mine_borrow_counter_t self, uint32_t n);",
    ] {
        assert!(h.contains(expected), "missing `{expected}`:\n{h}");
    }
    let c = file(&files, "w.c");
    assert!(
        c.contains("__import_name__(\"[resource-new]counter\")"),
        "{c}"
    );
    assert!(
        c.contains("__export_name__(\"a:b/mine#[dtor]counter\")"),
        "{c}"
    );
}

#[test]
fn structural_types_are_one_per_shape() {
    let wit = "package a:b;\n\
        interface t { record p { x: u32 } }\n\
        interface f { use t.{p}; type q = p; g: func(a: list<p>, b: list<q>) -> option<list<p>>; }\n\
        world w { import f; }";
    let files = generate(wit, "w");
    let h = file(&files, "w.h");
    assert_eq!(h.matches("typedef struct w_list_t_p_t {").count(), 1, "{h}");
    assert!(
        h.contains(
            "void w_f_g(const w_list_t_p_t *a, const w_list_t_p_t *b, w_option_list_t_p_t *ret);"
        ),
        "{h}"
    );
}

#[test]
fn async_functions_bind_with_the_callback_abi() {
    let wit = "package a:b;\n\
        interface i { f: async func(s: string, n: u64, o: option<string>) -> string; }\n\
        world w { import i; export i; }";
    let files = generate(wit, "w");
    let h = file(&files, "w.h");
    // An import: its arguments in a struct (more than 4 flat values), its
    // result through `*ret`, its status answered.
    assert!(
        h.contains("uint32_t w_i_f(w_i_f_args_t *args, w_string_t *ret);"),
        "{h}"
    );
    // An export: started, called back, and its result given by `_return`.
    assert!(
        h.contains("uint32_t w_exports_i_f(w_string_t *s, uint64_t n, w_option_string_t *o);"),
        "{h}"
    );
    assert!(
        h.contains("uint32_t w_exports_i_f_callback(w_event_t *event);"),
        "{h}"
    );
    assert!(
        h.contains("void w_exports_i_f_return(const w_string_t *result_);"),
        "{h}"
    );
    // The macros are the world's in capitals, functions in lower case.
    assert!(h.contains("`W_EVENT_NONE` when there is none"), "{h}");
    assert!(h.contains("#define W_CALLBACK_WAIT(set)"), "{h}");
    let c = file(&files, "w.c");
    assert!(c.contains("__import_name__(\"[async-lower]f\")"), "{c}");
    assert!(
        c.contains("__export_name__(\"[callback][async-lift]a:b/i#f\")"),
        "{c}"
    );
    assert!(c.contains("__import_name__(\"[task-return]f\")"), "{c}");
}

#[test]
fn streams_and_futures_are_handles_with_functions_per_type() {
    let wit = "package a:b;\n\
        interface i { record r { s: string } type named = stream<r>; \
        f: async func(a: named, b: future<u32>) -> stream<u8>; }\n\
        world w { export i; }";
    let files = generate(wit, "w");
    let h = file(&files, "w.h");
    // A named stream type is a typedef of its structure.
    assert!(
        h.contains("typedef w_stream_exports_i_r_t w_exports_i_named_t;"),
        "{h}"
    );
    assert!(h.contains("typedef struct w_stream_u8_writer_t {"), "{h}");
    // A buffer is an array of the element's C type.
    assert!(
        h.contains("uint32_t w_stream_exports_i_r_read(w_stream_exports_i_r_t end, w_exports_i_r_t *buf, size_t count);"),
        "{h}"
    );
    assert!(
        h.contains("uint32_t w_future_u32_write(w_future_u32_writer_t end, const uint32_t *buf);"),
        "{h}"
    );
    assert!(h.contains("#define W_COPY_BLOCKED 0xffffffffu"), "{h}");
    let c = file(&files, "w.c");
    assert!(
        c.contains("__import_name__(\"[stream-read-0][async-lift]a:b/i#f\")")
            || c.contains("[stream-read-"),
        "{c}"
    );
}

#[test]
fn error_context_is_refused_naming_the_function() {
    let wit = "package a:b;\ninterface i { f: func(e: error-context); }\nworld w { export i; }";
    let (resolve, world) = load(wit, "w");
    let err = Opts::default().generate(&resolve, world).unwrap_err();
    assert!(err.to_string().contains("`error-context`"), "{err}");
    assert!(!err.is_internal());
}

#[test]
fn output_is_deterministic() {
    let a = generate(KEYSTORE, "keystore");
    let b = generate(KEYSTORE, "keystore");
    assert_eq!(a, b);
}

#[test]
fn component_type_is_a_custom_section_in_iso_c_pieces() {
    let files = generate(KEYSTORE, "keystore");
    let ct = file(&files, "keystore_component_type.c");
    assert!(
        ct.contains(".section \\\".custom_section.component-type:wcomp:keystore\\\""),
        "{ct}"
    );
    // ISO C guarantees string literals of 4095 characters only.
    for piece in ct.split("__asm__(").skip(1) {
        let literal: usize = piece
            .lines()
            .filter_map(|l| l.split("//").next())
            .map(|l| l.trim().trim_matches('"').len())
            .sum();
        assert!(literal < 4095, "a piece of {literal} characters");
    }
}
