//! WIT out: canonical text and the wasm-encoded package.

use wit_component::WitPrinter;
use wit_parser::WorldId;

use crate::{Wit, WitError};

/// Canonical WIT text of the loaded package. With `world`, only that world
/// is kept (with every interface of the package, which it may use).
pub fn print(wit: &Wit, world: Option<WorldId>) -> Result<String, WitError> {
    let mut resolve;
    let resolve = match world {
        Some(world) => {
            resolve = wit.resolve.clone();
            resolve.packages[wit.package]
                .worlds
                .retain(|_, id| *id == world);
            &resolve
        }
        None => &wit.resolve,
    };
    let mut printer = WitPrinter::default();
    printer
        .print(resolve, wit.package, &[])
        .map_err(|e| WitError::Internal(format!("printing WIT failed: {e:#}")))?;
    Ok(printer.output.to_string())
}

/// The loaded package as a wasm-encoded WIT package, validated.
pub fn encode(wit: &Wit) -> Result<Vec<u8>, WitError> {
    let bytes =
        wit_component::encode(&wit.resolve, wit.package, false).map_err(|e| WitError::Encode {
            message: format!("{e:#}"),
        })?;
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&bytes)
        .map_err(|e| WitError::Internal(format!("encoded package does not validate: {e}")))?;
    Ok(bytes)
}
