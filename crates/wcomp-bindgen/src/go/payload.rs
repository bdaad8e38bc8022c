//! Futures and streams in Go: generic ends (`Stream[T]`, `StreamWriter[T]`,
//! `Future[T]`, `FutureWriter[T]`) whose reads and writes block the calling
//! goroutine, as async imports do; a `Stream[byte]` is an `io.Reader`, a
//! `StreamWriter[byte]` an `io.Writer`.
//!
//! Each end holds the operations of its type: per future or stream type
//! the world's functions pass, its intrinsics (those of the first function
//! passing it: every function's are the same type's) and how its values
//! cross a read or write buffer. Go's layout is not the canonical one, so
//! values are stored into and loaded from a buffer of their own by the
//! abi crate's element plans (`wcomp_abi::ElementPlan`), spelled by the
//! function-body writer; numbers, laid out alike, cross in the caller's
//! slice.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use wcomp_abi::{
    AsyncWorldPlan, PayloadKind, PayloadOp, PayloadPlan, PlainData, drive_block, has_memory,
    moves_handles, plain_data,
};
use wit_parser::{Function, Resolve, Type, TypeDefKind, TypeId, WorldId, WorldItem};

use super::Gen;
use super::body::{Body, Mode};
use super::func::wasmimport;
use crate::BindError;
use crate::aliases::{identity, unalias};
use wcomp_wit::signature::type_name;

/// The helper names the generic ends use, claimed in worlds with a future
/// (`Future`, `FutureWriter`, `NewFuture`), a stream (`Stream`,
/// `StreamWriter`, `NewStream`) or either (the errors).
pub(super) const HELPERS: [&str; 8] = [
    "Stream",
    "StreamWriter",
    "Future",
    "FutureWriter",
    "NewStream",
    "NewFuture",
    "ErrDropped",
    "ErrCancelled",
];

/// A future or stream type: whether it is a stream, and its element's WIT
/// identity.
pub(super) type PayloadKey = (bool, String);

impl Gen<'_> {
    /// The Go type of an anonymous `future<T>` or `stream<T>` (the
    /// readable end).
    pub(super) fn payload_ty(&self, kind: PayloadKind, element: &Option<Type>) -> String {
        let end = match kind {
            PayloadKind::Stream => self.helper("Stream"),
            PayloadKind::Future => self.helper("Future"),
        };
        format!("{end}[{}]", self.side(element))
    }

    /// The operations variable of future or stream type `ty`.
    pub(super) fn payload_ops(&self, ty: TypeId) -> Result<String, BindError> {
        let (kind, element) = payload_of(self.resolve, ty).ok_or_else(|| {
            BindError::Internal("a future or stream step names another type".into())
        })?;
        let key = (kind == PayloadKind::Stream, element_key(self, &element));
        self.payload_keys()?
            .iter()
            .position(|k| *k == key)
            .map(|i| ops_name(kind, i))
            .ok_or_else(|| {
                BindError::Internal(format!(
                    "no function passes the {} type `{}`",
                    kind_name(kind),
                    key.1
                ))
            })
    }

    /// Every distinct (kind, element) the world's functions pass, in plan
    /// order.
    fn payload_keys(&self) -> Result<Vec<PayloadKey>, BindError> {
        let plan = AsyncWorldPlan::new(self.resolve, self.world)?;
        let mut keys: Vec<PayloadKey> = Vec::new();
        for p in &plan.payloads {
            let key = (p.kind == PayloadKind::Stream, element_key(self, &p.element));
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        Ok(keys)
    }

    /// The constructors wanted for future and stream types Go spells like
    /// another: `NewFuture[int32]` cannot tell `future<char>` from
    /// `future<s32>`, so each gets one of its own (`NewFutureChar`,
    /// `NewFutureS32`).
    pub(super) fn typed_maker_wants(&self) -> Result<Vec<(PayloadKey, String)>, BindError> {
        let plan = AsyncWorldPlan::new(self.resolve, self.world)?;
        let mut wants = Vec::new();
        for (key, element) in self.ambiguous_payloads(&plan) {
            let kind = crate::go::camel(kind_name(key_kind(&key)));
            let words = match &element {
                Some(t) => type_name(self.resolve, t),
                None => "nothing".into(),
            };
            let words: String = words
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            wants.push((key, format!("New{kind}{}", crate::go::camel(&words))));
        }
        Ok(wants)
    }

    /// The (kind, element) pairs of the world's futures and streams whose
    /// Go type another pair shares, with their elements.
    fn ambiguous_payloads(&self, plan: &AsyncWorldPlan) -> Vec<(PayloadKey, Option<Type>)> {
        let mut seen: Vec<(PayloadKey, String, Option<Type>)> = Vec::new();
        for p in &plan.payloads {
            let key = (p.kind == PayloadKind::Stream, element_key(self, &p.element));
            if !seen.iter().any(|(k, _, _)| *k == key) {
                seen.push((key, go_identity(self, &p.element), p.element));
            }
        }
        let shared = |key: &PayloadKey, go: &String| {
            seen.iter()
                .any(|(k, g, _)| k.0 == key.0 && g == go && k.1 != key.1)
        };
        seen.iter()
            .filter(|(key, go, _)| shared(key, go))
            .map(|(key, _, element)| (key.clone(), *element))
            .collect()
    }

    /// The constructors of the future and stream types Go spells like
    /// another, for the API file.
    fn typed_makers_text(&self) -> Result<String, BindError> {
        let plan = AsyncWorldPlan::new(self.resolve, self.world)?;
        let keys = self.payload_keys()?;
        let mut text = String::new();
        for (key, element) in self.ambiguous_payloads(&plan) {
            let Some(name) = self.typed_makers.get(&key) else {
                continue;
            };
            let kind = key_kind(&key);
            let ops = keys
                .iter()
                .position(|k| *k == key)
                .map(|i| ops_name(kind, i))
                .ok_or_else(|| BindError::Internal("a typed constructor of no type".into()))?;
            let (reader, writer) = match kind {
                PayloadKind::Stream => (self.helper("Stream"), self.helper("StreamWriter")),
                PayloadKind::Future => (self.helper("Future"), self.helper("FutureWriter")),
            };
            let generic = match kind {
                PayloadKind::Stream => self.helper("NewStream"),
                PayloadKind::Future => self.helper("NewFuture"),
            };
            let go = self.side(&element);
            let wit = payload_wit(self.resolve, kind, &element);
            let _ = write!(
                text,
                r#"
// {name} makes a `{wit}`: its readable end, to pass on, and its
// writable end. Go spells another of the world's types {reader}[{go}]
// too, and {generic}[{go}], which cannot tell them apart, panics.
func {name}() ({reader}[{go}], {writer}[{go}]) {{
	r, w := {ops}.ends()
	return {reader}[{go}]{{end: r}}, {writer}[{go}]{{end: w}}
}}
"#
            );
        }
        Ok(text)
    }

    /// The generic ends (into the API file) and, per future or stream type,
    /// its operations (into the glue).
    pub(super) fn payload_support(
        &self,
        api: &mut String,
        glue: &mut String,
    ) -> Result<(), BindError> {
        let plan = AsyncWorldPlan::new(self.resolve, self.world)?;
        api.push_str(&self.ends_text());
        api.push_str(&self.typed_makers_text()?);
        glue.push_str(&self.payload_glue_text());
        if plan.payloads.iter().any(|p| p.element.is_none()) {
            glue.push_str(
                "\n// A future or stream of nothing moves no bytes.\n\
                 func cabiStoreNothing(_ unsafe.Pointer, _ struct{}, keep []unsafe.Pointer) []unsafe.Pointer {\n\
                 return keep\n}\n\nfunc cabiLoadNothing(unsafe.Pointer) struct{} {\nreturn struct{}{}\n}\n",
            );
        }
        // Per element type: how its values are stored and loaded.
        let mut elements: BTreeMap<String, usize> = BTreeMap::new();
        let mut kinds: Vec<PayloadKey> = Vec::new();
        // Per Go element type, the operations its constructor uses.
        let mut makers: Vec<(PayloadKind, String, String)> = Vec::new();
        for p in &plan.payloads {
            let ekey = element_key(self, &p.element);
            let next = elements.len();
            let index = *elements.entry(ekey.clone()).or_insert(next);
            if index == next {
                self.element_functions(p, index, glue)?;
            }
            let key = (p.kind == PayloadKind::Stream, ekey);
            if kinds.contains(&key) {
                continue;
            }
            let ops = ops_name(p.kind, kinds.len());
            kinds.push(key);
            self.payload_ops_var(p, &ops, index, glue)?;
            // The constructor's case of the Go type: two WIT types Go
            // spells alike (`char` and `s32`) have constructors of their
            // own, and the generic one refuses.
            let go = go_identity(self, &p.element);
            if !makers.iter().any(|(k, g, _)| *k == p.kind && *g == go) {
                makers.push((p.kind, go, ops));
            }
        }
        let ambiguous = self.ambiguous_payloads(&plan);
        let mut refusals: BTreeMap<(bool, String), Vec<String>> = BTreeMap::new();
        for (key, element) in &ambiguous {
            let kind = key_kind(key);
            let name = self.typed_makers.get(key).cloned().unwrap_or_default();
            refusals
                .entry((key.0, go_identity(self, element)))
                .or_default()
                .push(format!(
                    "{} ({name})",
                    payload_wit(self.resolve, kind, element)
                ));
        }
        glue.push_str(&self.constructor_lookup(&makers, &refusals));
        Ok(())
    }

    /// `cabiStoreN` and `cabiLoadN` of one element type, from its element
    /// plan, written as one of the functions passing it.
    fn element_functions(
        &self,
        p: &PayloadPlan,
        index: usize,
        glue: &mut String,
    ) -> Result<(), BindError> {
        let Some(ty) = &p.element else {
            return Ok(());
        };
        let f = self.plan.passing(p).ok_or_else(|| {
            BindError::Internal(format!(
                "no plan of `{}`, which passes a future or stream",
                p.function
            ))
        })?;
        let element = self.plan.types().element(ty)?;
        let go = self.gty(ty);
        let mut store = Body::new(self, f, Mode::Element);
        drive_block(&element.store, vec!["value".into()], &mut store)?;
        let mut load = Body::new(self, f, Mode::Element);
        let loaded = drive_block(&element.load, Vec::new(), &mut load)?;
        let _ = writeln!(
            glue,
            "\n// cabiStore{index} writes a `{go}` into a buffer at `base`; what it lends\n\
             // joins `keep`.\nfunc cabiStore{index}(base unsafe.Pointer, value {go}, keep []unsafe.Pointer) []unsafe.Pointer {{\n\
             {}return keep\n}}\n\n\
             // cabiLoad{index} reads a `{go}` out of a buffer at `base`.\n\
             func cabiLoad{index}(base unsafe.Pointer) {go} {{\n{}return {}\n}}",
            store.out,
            load.out,
            loaded.join("")
        );
        Ok(())
    }

    /// The operations variable of one future or stream type.
    fn payload_ops_var(
        &self,
        p: &PayloadPlan,
        ops: &str,
        index: usize,
        glue: &mut String,
    ) -> Result<(), BindError> {
        let go = self.side(&p.element);
        let layout = p
            .element_layout
            .unwrap_or(wcomp_abi::Layout { size: 0, align: 1 });
        let plain = match &p.element {
            None => true,
            Some(t) => plain_data(self.resolve, t) == PlainData::Number,
        };
        let receives = p
            .element
            .as_ref()
            .is_some_and(|t| has_memory(self.resolve, t));
        let moves = p
            .element
            .as_ref()
            .is_some_and(|t| moves_handles(self.resolve, t));
        let wit = payload_wit(self.resolve, p.kind, &p.element);
        let mut fields: Vec<(&str, String)> = vec![
            ("wit", format!("{wit:?}")),
            ("size", layout.size.to_string()),
            ("plain", plain.to_string()),
            ("future", (p.kind == PayloadKind::Future).to_string()),
            ("receives", receives.to_string()),
            ("moves", moves.to_string()),
        ];
        match &p.element {
            Some(_) => {
                fields.push(("store", format!("cabiStore{index}")));
                fields.push(("load", format!("cabiLoad{index}")));
            }
            None => {
                fields.push(("store", "cabiStoreNothing".into()));
                fields.push(("load", "cabiLoadNothing".into()));
            }
        }
        for (op, intrinsic) in &p.intrinsics {
            let symbol = format!("wasmimport{}{}", camel_ops(ops), op_name(*op));
            glue.push_str(&wasmimport(&intrinsic.name, &symbol, &intrinsic.signature)?);
            let field = match op {
                PayloadOp::New => "newPair",
                PayloadOp::Read => "read",
                PayloadOp::Write => "write",
                PayloadOp::CancelRead => "cancelRead",
                PayloadOp::CancelWrite => "cancelWrite",
                PayloadOp::DropReadable => "dropReadable",
                PayloadOp::DropWritable => "dropWritable",
            };
            // A future's read and write take no count: a stream's shape
            // lets both be called alike.
            let value = match (op, p.kind) {
                (PayloadOp::Read | PayloadOp::Write, PayloadKind::Future) => {
                    let counted = format!("{symbol}Counted");
                    let _ = writeln!(
                        glue,
                        "\nfunc {counted}(end int32, buf unsafe.Pointer, _ uint32) int32 {{\n\
                         return {symbol}(end, buf)\n}}"
                    );
                    counted
                }
                _ => symbol,
            };
            fields.push((field, value));
        }
        // gofmt's alignment of one run of single-line keyed values.
        let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
        let mut body = String::new();
        for (key, value) in &fields {
            let _ = writeln!(body, "{:<width$} {value},", format!("{key}:"));
        }
        let _ = writeln!(
            glue,
            "\n// The operations of `{wit}`.\nvar {ops} = cabiPayload[{go}]{{\n{body}}}"
        );
        Ok(())
    }

    /// `cabiPayloadOf`: the operations of a Go element type, for the
    /// constructors.
    fn constructor_lookup(
        &self,
        makers: &[(PayloadKind, String, String)],
        refusals: &BTreeMap<(bool, String), Vec<String>>,
    ) -> String {
        let mut streams = String::new();
        let mut futures = String::new();
        let pkg = &self.pkg;
        for (kind, go, ops) in makers {
            let case = match refusals.get(&(*kind == PayloadKind::Stream, go.clone())) {
                Some(types) => format!(
                    "case **cabiPayload[{go}]:\n\
                     panic(\"{pkg}: Go spells {} alike: make one with its own constructor\")\n",
                    types.join(" and ")
                ),
                None => format!("case **cabiPayload[{go}]:\n*p = &{ops}\n"),
            };
            match kind {
                PayloadKind::Stream => streams.push_str(&case),
                PayloadKind::Future => futures.push_str(&case),
            }
        }
        let lookup = |kind: &str, cases: &str| match cases.is_empty() {
            true => format!(
                "\nfunc cabi{}Of[T any]() *cabiPayload[T] {{\n\
                 panic(\"{pkg}: no function of the world passes a {kind}\")\n}}\n",
                crate::go::camel(kind)
            ),
            // Every case may refuse (each Go type spells two WIT types):
            // then no case names `p`, and the switch ends the function.
            false => {
                let (bind, end) = match cases.contains("*p = ") {
                    true => ("p := ", "return ops\n"),
                    false => ("", ""),
                };
                format!(
                    "\nfunc cabi{}Of[T any]() *cabiPayload[T] {{\nvar ops *cabiPayload[T]\n\
                     switch {bind}any(&ops).(type) {{\n{cases}default:\n\
                     panic(\"{pkg}: no function of the world passes a {kind} of this type\")\n}}\n{end}}}\n",
                    crate::go::camel(kind),
                )
            }
        };
        let mut text =
            String::from("\n// The operations of an element type, for the constructors.");
        if self.helpers.contains_key("Stream") {
            text.push_str(&lookup("stream", &streams));
        }
        if self.helpers.contains_key("Future") {
            text.push_str(&lookup("future", &futures));
        }
        text
    }

    /// The generic ends and their methods, for the API file: those of
    /// streams and of futures where the world names one.
    fn ends_text(&self) -> String {
        let [
            stream,
            writer,
            future,
            fwriter,
            new_stream,
            new_future,
            dropped,
            cancelled,
        ] = HELPERS.map(|h| self.helper(h));
        let pkg = &self.pkg;
        let mut text = format!(
            r#"
// {dropped} is the error of a write whose reader dropped its end, and of a
// future's read whose writer did.
var {dropped} = errors.New("{pkg}: the other end was dropped")

// {cancelled} is the error of a read or write that the task's caller
// cancelled, with the task: the task ends without a result.
var {cancelled} = errors.New("{pkg}: the call was cancelled")
"#
        );
        if self.helpers.contains_key("Stream") {
            let _ = write!(
                text,
                r#"
// {stream} is the readable end of a WIT `stream<T>`: [{stream}.Read] from it
// (a {stream}[byte] is an [io.Reader]), pass it to a function, which takes it
// over, or [{stream}.Close] it. Reads block the calling goroutine, as async
// imports do.
type {stream}[T any] struct {{
	end *cabiEnd[T]
}}

// {writer} is the writable end of a WIT `stream<T>`: [{writer}.Write]
// to it (a {writer}[byte] is an [io.Writer]) and [{writer}.Close] it,
// which ends the stream.
type {writer}[T any] struct {{
	end *cabiEnd[T]
}}

// {new_stream} makes a stream: its readable end, to pass on, and its writable
// end, to write to.
func {new_stream}[T any]() ({stream}[T], {writer}[T]) {{
	ops := cabiStreamOf[T]()
	r, w := ops.ends()
	return {stream}[T]{{end: r}}, {writer}[T]{{end: w}}
}}

// Read reads up to len(buf) values into buf, blocking until at least one
// comes. Once the writer has closed the stream and every value was read,
// it answers [io.EOF].
func (s {stream}[T]) Read(buf []T) (int, error) {{
	e := s.end.use("Read")
	for len(buf) > 0 && !e.done {{
		n, status := e.receive(buf, e.ops.read, e.ops.cancelRead)
		e.done = status == cabiCopyDropped
		if n > 0 {{
			return n, nil
		}}
		if status == cabiCopyCancelled {{
			return 0, {cancelled}
		}}
	}}
	if e.done {{
		return 0, io.EOF
	}}
	return 0, nil
}}

// Close drops the readable end: the writer's next write fails.
func (s {stream}[T]) Close() error {{
	s.end.close(s.end.ops.dropReadable)
	return nil
}}

// Write writes every value of values, blocking until the reader has taken
// them; it answers how many were taken, and [{dropped}] when the reader
// dropped its end first. The values after those taken are still the
// caller's, with the futures, streams and handles in them: close or pass
// them on.
func (w {writer}[T]) Write(values []T) (int, error) {{
	e := w.end.use("Write")
	written := 0
	for written < len(values) {{
		if e.done {{
			return written, {dropped}
		}}
		n, status := e.send(values[written:], e.ops.write, e.ops.cancelWrite)
		written += n
		e.done = status == cabiCopyDropped
		if status == cabiCopyCancelled {{
			return written, {cancelled}
		}}
	}}
	return written, nil
}}

// Close drops the writable end, which ends the stream: the reader reads
// what was written, then [io.EOF].
func (w {writer}[T]) Close() error {{
	w.end.close(w.end.ops.dropWritable)
	return nil
}}
"#
            );
        }
        if self.helpers.contains_key("Future") {
            let _ = write!(
                text,
                r#"
// {future} is the readable end of a WIT `future<T>`: [{future}.Read] its
// value, pass it to a function, which takes it over, or [{future}.Close] it.
type {future}[T any] struct {{
	end *cabiEnd[T]
}}

// {fwriter} is the writable end of a WIT `future<T>`: [{fwriter}.Write]
// its value, or [{fwriter}.Close] it unwritten.
type {fwriter}[T any] struct {{
	end *cabiEnd[T]
}}

// {new_future} makes a future: its readable end, to pass on, and its
// writable end, to write its value to.
func {new_future}[T any]() ({future}[T], {fwriter}[T]) {{
	ops := cabiFutureOf[T]()
	r, w := ops.ends()
	return {future}[T]{{end: r}}, {fwriter}[T]{{end: w}}
}}

// Read blocks until the future's value comes, and drops the end.
func (f {future}[T]) Read() (T, error) {{
	e := f.end.use("Read")
	buf := make([]T, 1)
	n, status := e.receive(buf, e.ops.read, e.ops.cancelRead)
	e.close(e.ops.dropReadable)
	switch {{
	case n == 1:
		return buf[0], nil
	case status == cabiCopyCancelled:
		return buf[0], {cancelled}
	default:
		return buf[0], {dropped}
	}}
}}

// Close drops the readable end unread.
func (f {future}[T]) Close() error {{
	f.end.close(f.end.ops.dropReadable)
	return nil
}}

// Write gives the future its value, blocking until the reader has taken it
// ([{dropped}] if it dropped its end first: the value, with the futures,
// streams and handles in it, is still the caller's), and drops the end.
func (f {fwriter}[T]) Write(value T) error {{
	e := f.end.use("Write")
	n, status := e.send([]T{{value}}, e.ops.write, e.ops.cancelWrite)
	e.close(e.ops.dropWritable)
	switch {{
	case n == 1:
		return nil
	case status == cabiCopyCancelled:
		return {cancelled}
	default:
		return {dropped}
	}}
}}

// Close drops the writable end unwritten. The component model wants every
// future written: this traps unless the reader dropped its end first.
func (f {fwriter}[T]) Close() error {{
	f.end.close(f.end.ops.dropWritable)
	return nil
}}
"#
            );
        }
        text
    }

    /// The operations type and the reads and writes of every end.
    fn payload_glue_text(&self) -> String {
        let pkg = &self.pkg;
        format!(
            r#"
// cabiPayload is how the values of one future or stream type cross: its
// intrinsics, and how values are stored into and loaded from a read or
// write buffer (`size` bytes apart).
type cabiPayload[T any] struct {{
	// The WIT type, for messages.
	wit  string
	size uintptr
	// Numbers, laid out in Go as in the buffer: a slice is the buffer.
	plain bool
	// A future's operations: a read or write moves its one value, and
	// answers no count.
	future bool
	// Values hold strings or lists, which a read receives in the receive
	// buffer.
	receives bool
	// Values hold handles, futures or streams, which a write moves to the
	// reader.
	moves                      bool
	store                      func(base unsafe.Pointer, value T, keep []unsafe.Pointer) []unsafe.Pointer
	load                       func(base unsafe.Pointer) T
	newPair                    func() int64
	read, write                func(end int32, buf unsafe.Pointer, n uint32) int32
	cancelRead, cancelWrite    func(end int32) int32
	dropReadable, dropWritable func(end int32)
}}

// cabiEnd is one end of a future or stream.
type cabiEnd[T any] struct {{
	handle int32
	ops    *cabiPayload[T]
	// The other end was dropped.
	done bool
	// Dropped, or passed to a function.
	closed bool
}}

// ends makes a pair of ends.
func (ops *cabiPayload[T]) ends() (*cabiEnd[T], *cabiEnd[T]) {{
	pair := ops.newPair()
	return &cabiEnd[T]{{handle: int32(pair), ops: ops}}, &cabiEnd[T]{{handle: int32(pair >> 32), ops: ops}}
}}

// lift is the end of a handle the host passed.
func (ops *cabiPayload[T]) lift(handle int32) *cabiEnd[T] {{
	return &cabiEnd[T]{{handle: handle, ops: ops}}
}}

// use is the end, which must be open, for method `what`.
func (e *cabiEnd[T]) use(what string) *cabiEnd[T] {{
	if e == nil {{
		panic("{pkg}: " + what + " of an end that was never made")
	}}
	if e.closed {{
		panic("{pkg}: " + what + " of an end that was closed or passed on")
	}}
	return e
}}

// give is the handle of an end passed to a function, which takes it over
// as a `ops` type.
func (e *cabiEnd[T]) give(ops *cabiPayload[T]) int32 {{
	if e == nil {{
		panic("{pkg}: an end that was never made was passed")
	}}
	if e.ops != ops {{
		panic("{pkg}: a " + e.ops.wit + " was passed where a " + ops.wit + " is expected")
	}}
	if cabiStoring {{
		cabiGiven = append(cabiGiven, &e.closed)
	}}
	e.closed = true
	return e.handle
}}

// close drops the end, once.
func (e *cabiEnd[T]) close(drop func(int32)) {{
	if e != nil && !e.closed {{
		e.closed = true
		drop(e.handle)
	}}
}}

// receive reads up to len(buf) values into buf: how many came, and how the
// read ended.
func (e *cabiEnd[T]) receive(buf []T, read func(int32, unsafe.Pointer, uint32) int32, cancel func(int32) int32) (int, uint32) {{
	n := min(len(buf), cabiMaxCount)
	area := unsafe.Pointer(unsafe.SliceData(buf))
	if !e.ops.plain {{
		area = cabiAlloc(n * int(e.ops.size))
	}}
	if e.ops.receives {{
		cabiInFlight++
	}}
	code := e.copied(read(e.handle, area, uint32(n)), []unsafe.Pointer{{area}}, cancel)
	count := e.count(code)
	if !e.ops.plain {{
		for i := range count {{
			buf[i] = e.ops.load(unsafe.Add(area, i*int(e.ops.size)))
		}}
	}}
	if e.ops.receives {{
		cabiInFlight--
		cabiReset()
	}}
	return count, code & 0xf
}}

// send writes up to len(values) values: how many the reader took, and how
// the write ended.
func (e *cabiEnd[T]) send(values []T, write func(int32, unsafe.Pointer, uint32) int32, cancel func(int32) int32) (int, uint32) {{
	n := min(len(values), cabiMaxCount)
	area := unsafe.Pointer(unsafe.SliceData(values))
	var keep []unsafe.Pointer
	// Where the ends each value gives start in `given`.
	var starts []int
	if !e.ops.plain {{
		area = cabiAlloc(n * int(e.ops.size))
		cabiStoring = e.ops.moves
		for i := range n {{
			if e.ops.moves {{
				starts = append(starts, len(cabiGiven))
			}}
			keep = e.ops.store(unsafe.Add(area, i*int(e.ops.size)), values[i], keep)
		}}
	}}
	given := cabiGiven
	cabiStoring, cabiGiven = false, nil
	keep = append(keep, area)
	code := e.copied(write(e.handle, area, uint32(n)), keep, cancel)
	count := e.count(code)
	// The ends in values the reader did not take are still the writer's.
	if count < len(starts) {{
		for _, closed := range given[starts[count]:] {{
			*closed = false
		}}
	}}
	return count, code & 0xf
}}

// While a write stores its values, the ends they give (their `closed`
// flags), so that those of values the reader does not take are reopened.
var (
	cabiStoring bool
	cabiGiven   []*bool
)

// count is how many values a read or write moved.
func (e *cabiEnd[T]) count(code uint32) int {{
	if e.ops.future && code&0xf == cabiCopyCompleted {{
		return 1
	}}
	return int(code >> 4)
}}

// copied is the result of a read or write of the end, waiting for it when
// it blocked; `keep` stays reachable until then.
func (e *cabiEnd[T]) copied(code int32, keep []unsafe.Pointer, cancel func(int32) int32) uint32 {{
	if uint32(code) != cabiCopyBlocked {{
		return uint32(code)
	}}
	return cabiWait(uint32(e.handle), keep, func() uint32 {{
		return uint32(cancel(e.handle))
	}})
}}
"#
        )
    }
}

/// Which of futures and streams the world names, in its types and its
/// functions' (elements of futures and streams included): the generic
/// ends of those are written.
pub(super) fn payload_kinds(resolve: &Resolve, world: WorldId) -> (bool, bool) {
    fn walk(resolve: &Resolve, ty: &Type, kinds: &mut (bool, bool)) {
        let Type::Id(id) = ty else {
            return;
        };
        let kind = &resolve.types[*id].kind;
        match kind {
            TypeDefKind::Future(_) => kinds.0 = true,
            TypeDefKind::Stream(_) => kinds.1 = true,
            _ => {}
        }
        let mut sub = |t: &Type| walk(resolve, t, kinds);
        match kind {
            TypeDefKind::Future(e) | TypeDefKind::Stream(e) => e.iter().for_each(sub),
            TypeDefKind::Type(t)
            | TypeDefKind::Option(t)
            | TypeDefKind::List(t)
            | TypeDefKind::FixedLengthList(t, _) => sub(t),
            TypeDefKind::Map(k, v) => {
                sub(k);
                sub(v);
            }
            TypeDefKind::Record(r) => r.fields.iter().for_each(|f| sub(&f.ty)),
            TypeDefKind::Tuple(t) => t.types.iter().for_each(sub),
            TypeDefKind::Variant(v) => v.cases.iter().flat_map(|c| &c.ty).for_each(sub),
            TypeDefKind::Result(r) => [&r.ok, &r.err].into_iter().flatten().for_each(sub),
            _ => {}
        }
    }
    let mut kinds = (false, false);
    let function = |f: &Function, kinds: &mut (bool, bool)| {
        for p in &f.params {
            walk(resolve, &p.ty, kinds);
        }
        if let Some(t) = &f.result {
            walk(resolve, t, kinds);
        }
    };
    let w = &resolve.worlds[world];
    for item in w.imports.values().chain(w.exports.values()) {
        match item {
            WorldItem::Interface { id, .. } => {
                let iface = &resolve.interfaces[*id];
                for t in iface.types.values() {
                    walk(resolve, &Type::Id(*t), &mut kinds);
                }
                for f in iface.functions.values() {
                    function(f, &mut kinds);
                }
            }
            WorldItem::Type { id, .. } => walk(resolve, &Type::Id(*id), &mut kinds),
            WorldItem::Function(f) => function(f, &mut kinds),
        }
    }
    kinds
}

/// Whether `key` is a stream's or a future's.
fn key_kind(key: &PayloadKey) -> PayloadKind {
    match key.0 {
        true => PayloadKind::Stream,
        false => PayloadKind::Future,
    }
}

/// The operations variable of the `i`th (kind, element) pair.
fn ops_name(kind: PayloadKind, i: usize) -> String {
    match kind {
        PayloadKind::Stream => format!("cabiStream{i}"),
        PayloadKind::Future => format!("cabiFuture{i}"),
    }
}

/// `cabiStream0` as `Stream0`, in the names of its imports.
fn camel_ops(ops: &str) -> &str {
    ops.trim_start_matches("cabi")
}

fn op_name(op: PayloadOp) -> &'static str {
    match op {
        PayloadOp::New => "New",
        PayloadOp::Read => "Read",
        PayloadOp::Write => "Write",
        PayloadOp::CancelRead => "CancelRead",
        PayloadOp::CancelWrite => "CancelWrite",
        PayloadOp::DropReadable => "DropReadable",
        PayloadOp::DropWritable => "DropWritable",
    }
}

fn kind_name(kind: PayloadKind) -> &'static str {
    match kind {
        PayloadKind::Stream => "stream",
        PayloadKind::Future => "future",
    }
}

/// An element type by its WIT identity (aliases followed).
fn element_key(g: &Gen<'_>, element: &Option<Type>) -> String {
    match element {
        Some(t) => identity(g.resolve, t),
        None => "_".into(),
    }
}

/// An element type by its Go identity: types Go spells alike are one
/// (`char` and `s32` are both `int32`, a 1-tuple is its element).
fn go_identity(g: &Gen<'_>, element: &Option<Type>) -> String {
    let Some(t) = element else {
        return "struct{}".into();
    };
    // `rune` and `byte` are Go's aliases of `int32` and `uint8`.
    let go = g.gty(&unalias(g.resolve, t));
    go.split_inclusive(|c: char| !c.is_ascii_alphanumeric())
        .map(|word| {
            match word.split_at(
                word.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
                    .len(),
            ) {
                ("rune", rest) => format!("int32{rest}"),
                ("byte", rest) => format!("uint8{rest}"),
                (w, rest) => format!("{w}{rest}"),
            }
        })
        .collect()
}

/// `stream<T>` or `future<T>` as WIT spells it.
fn payload_wit(resolve: &Resolve, kind: PayloadKind, element: &Option<Type>) -> String {
    match element {
        Some(t) => format!("{}<{}>", kind_name(kind), type_name(resolve, t)),
        None => kind_name(kind).to_string(),
    }
}

/// The kind and element of future or stream type `ty` (aliases followed).
fn payload_of(resolve: &wit_parser::Resolve, ty: TypeId) -> Option<(PayloadKind, Option<Type>)> {
    match &resolve.types[ty].kind {
        TypeDefKind::Future(e) => Some((PayloadKind::Future, *e)),
        TypeDefKind::Stream(e) => Some((PayloadKind::Stream, *e)),
        TypeDefKind::Type(Type::Id(t)) => payload_of(resolve, *t),
        _ => None,
    }
}
