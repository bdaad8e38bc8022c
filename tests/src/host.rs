//! The store data every wasmtime runner here uses: WASI state and the
//! resource table its handles live in.

use std::sync::OnceLock;

use wasmtime::Engine;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// A store's data: WASI (however the runner built it) and its table.
pub struct WasiHost {
    pub wasi: WasiCtx,
    pub table: ResourceTable,
}

impl WasiHost {
    pub fn new(wasi: WasiCtx) -> WasiHost {
        WasiHost {
            wasi,
            table: ResourceTable::new(),
        }
    }
}

impl WasiView for WasiHost {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// One default engine for a whole test binary: compiling is what costs,
/// and an engine is shared safely.
pub fn shared_engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(Engine::default)
}
