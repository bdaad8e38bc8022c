//! Futures and streams in Rust guests: their readers and writers (inside
//! `_rt::task`), and per element type the impls that bind them to the
//! world's intrinsics and move values through read and write buffers, as
//! the abi crate's element plans say ([`wcomp_abi::ElementPlan`]).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use wcomp_abi::{
    AsyncWorldPlan, Block, CoreName, ElementPlan, PayloadKind, PayloadOp, PayloadPlan, PlainData,
    drive_block, plain_data,
};

use super::body::{Body, Mode};
use super::{Gen, func};
use crate::BindError;

/// The readers and writers of futures and streams, inside `_rt::task`, in
/// files whose world has a future or stream.
pub(super) const PAYLOADS: &str = r#"
    use core::marker::PhantomData;

    /// A read or write not finished yet; else `count << 4 | how it ended`
    /// (a future's count is 0).
    const BLOCKED: u32 = 0xffff_ffff;
    const COMPLETED: u32 = 0;
    const DROPPED: u32 = 1;

    /// A read or write of `end` that began with `code`: its final code,
    /// waiting for it if it blocked. If the waiting is given up (the future
    /// dropped), the copy is cancelled first, so that the buffer is no
    /// longer written or read, and `given_up` gets the code it ended with.
    async fn copied(
        end: u32,
        code: u32,
        cancel: unsafe fn(i32) -> i32,
        given_up: &Cell<u32>,
    ) -> u32 {
        if code != BLOCKED {
            return code;
        }
        /// Cancels the copy unless it finished: a copy whose end was
        /// delivered cannot be cancelled (the event has its code).
        struct InFlight<'a>(u32, unsafe fn(i32) -> i32, &'a Cell<u32>, bool);
        impl Drop for InFlight<'_> {
            fn drop(&mut self) {
                if !self.3 {
                    let code = match forget(self.0) {
                        Some(code) => code,
                        None => unsafe { (self.1)(self.0 as i32) as u32 },
                    };
                    self.2.set(code);
                }
            }
        }
        let mut in_flight = InFlight(end, cancel, given_up, false);
        let code = event(end).await;
        in_flight.3 = true;
        code
    }

    /// How the values of a future or stream of `Self` cross in a read or
    /// write buffer. Implemented by the bindings for each element type the
    /// world's futures and streams carry.
    #[doc(hidden)]
    pub unsafe trait Payload: Sized + 'static {
        /// One value's size and alignment in a buffer.
        const SIZE: usize;
        const ALIGN: usize;
        /// A value's memory is its buffer form (numbers, nothing): buffers
        /// are the values themselves.
        const PLAIN: bool;
        /// Stores `value` at `at`, handing over all it holds: its strings
        /// and lists as copies, its handles.
        unsafe fn store(value: Self, at: *mut u8);
        /// The value at `at`, owning what it points to: one read, or one
        /// stored and not written.
        unsafe fn load(at: *mut u8) -> Self;
        /// Frees the strings and lists of the value stored at `at`, which
        /// was written (the reader has copies, and its handles).
        unsafe fn free_written(at: *mut u8);
    }

    /// A [`Payload`] that holds no handles, futures or streams, so that a
    /// value can be written from a borrow: its strings and lists are lent
    /// to the write (buffers the lending made go into `cleanup`).
    #[doc(hidden)]
    pub unsafe trait Lend: Payload {
        unsafe fn lend(value: &Self, at: *mut u8, cleanup: &mut Vec<(*mut u8, usize, usize)>);
    }

    /// The intrinsics of streams of `Self`, bound to the imports of one
    /// function that passes such a stream (any will do: they are one type).
    #[doc(hidden)]
    pub unsafe trait StreamPayload: Payload {
        unsafe fn new() -> i64;
        unsafe fn read(end: i32, buf: *mut u8, count: usize) -> i32;
        unsafe fn write(end: i32, buf: *const u8, count: usize) -> i32;
        unsafe fn cancel_read(end: i32) -> i32;
        unsafe fn cancel_write(end: i32) -> i32;
        unsafe fn drop_readable(end: i32);
        unsafe fn drop_writable(end: i32);
    }

    /// As [`StreamPayload`], for futures of `Self`.
    #[doc(hidden)]
    pub unsafe trait FuturePayload: Payload {
        unsafe fn new() -> i64;
        unsafe fn read(end: i32, buf: *mut u8) -> i32;
        unsafe fn write(end: i32, buf: *const u8) -> i32;
        unsafe fn cancel_read(end: i32) -> i32;
        unsafe fn cancel_write(end: i32) -> i32;
        unsafe fn drop_readable(end: i32);
        unsafe fn drop_writable(end: i32);
    }

    /// A buffer of values in their memory form. Values `[0, written)` went
    /// to a reader (their strings and lists are freed with the buffer);
    /// values `[written, held)` are still the buffer's (dropped with it).
    /// If the copy was given up, its code says how many moved. Not generic
    /// (the element type's functions are fields), so that streams of
    /// numbers, which never fill one, carry no code for it.
    struct Buffer {
        ptr: *mut u8,
        cap: usize,
        size: usize,
        align: usize,
        written: usize,
        held: usize,
        given_up: Cell<u32>,
        /// Filled by a read (else emptied by a write), of a future (else of
        /// a stream): how `given_up` counts.
        reading: bool,
        future: bool,
        /// Takes the value at a place back and drops it.
        drop_held: unsafe fn(*mut u8),
        free_written: unsafe fn(*mut u8),
    }

    unsafe fn drop_held<T: Payload>(at: *mut u8) {
        drop(unsafe { T::load(at) });
    }

    impl Buffer {
        fn new<T: Payload>(cap: usize, reading: bool, future: bool) -> Self {
            Buffer {
                ptr: unsafe { super::alloc(cap * T::SIZE, T::ALIGN) },
                cap,
                size: T::SIZE,
                align: T::ALIGN,
                written: 0,
                held: 0,
                given_up: Cell::new(BLOCKED),
                reading,
                future,
                drop_held: drop_held::<T>,
                free_written: T::free_written,
            }
        }

        fn at(&self, i: usize) -> *mut u8 {
            unsafe { self.ptr.add(i * self.size) }
        }

        /// Stores `values` (at most `cap`, of the buffer's type), owned by
        /// the buffer from now on.
        fn fill<T: Payload>(&mut self, values: Vec<T>) {
            for value in values {
                unsafe { T::store(value, self.at(self.held)) };
                self.held += 1;
            }
        }

        /// The values from `written` on (of the buffer's type), out of it.
        fn take<T: Payload>(&mut self) -> Vec<T> {
            let values = (self.written..self.held).map(|i| unsafe { T::load(self.at(i)) }).collect();
            self.held = self.written;
            values
        }
    }

    impl Drop for Buffer {
        fn drop(&mut self) {
            let code = self.given_up.get();
            if code != BLOCKED {
                let moved = match self.future {
                    true => usize::from(code & 0xf == COMPLETED),
                    false => (code >> 4) as usize,
                };
                match self.reading {
                    true => self.held = moved,
                    false => self.written = moved,
                }
            }
            for i in 0..self.written {
                unsafe { (self.free_written)(self.at(i)) };
            }
            for i in self.written..self.held {
                unsafe { (self.drop_held)(self.at(i)) };
            }
            unsafe { super::free(self.ptr, self.cap * self.size, self.align) };
        }
    }

    /// The values of a stream's read or owned write: a `Vec` whose memory
    /// is their memory form (plain values), or a [`Buffer`]. Picked by
    /// `T::PLAIN` outside the `await` (one future type, one state either
    /// way), so that streams of numbers carry no buffer code.
    enum Values<T> {
        Plain(Vec<T>, Cell<u32>),
        Buffered(Buffer),
    }

    impl<T: Payload> Values<T> {
        /// Room for `max` values to read.
        fn reading(max: usize) -> Self {
            match T::PLAIN {
                true => Values::Plain(Vec::with_capacity(max), Cell::new(BLOCKED)),
                false => Values::Buffered(Buffer::new::<T>(max, true, false)),
            }
        }

        /// `values`, to write.
        fn writing(values: Vec<T>) -> Self {
            if T::PLAIN {
                return Values::Plain(values, Cell::new(BLOCKED));
            }
            let mut buf = Buffer::new::<T>(values.len(), false, false);
            buf.fill(values);
            Values::Buffered(buf)
        }

        /// Where the values are, and where a copy given up says how it ended.
        fn at(&mut self) -> (*mut u8, &Cell<u32>) {
            match self {
                Values::Plain(values, given_up) => (values.as_mut_ptr().cast(), given_up),
                Values::Buffered(buf) => (buf.ptr, &buf.given_up),
            }
        }

        /// The first `count` values, read.
        fn read(self, count: usize) -> Vec<T> {
            match self {
                Values::Plain(mut values, _) => {
                    unsafe { values.set_len(count) };
                    values
                }
                Values::Buffered(mut buf) if !T::PLAIN => {
                    buf.held = count;
                    buf.take::<T>()
                }
                Values::Buffered(_) => Vec::new(),
            }
        }

        /// The values after the first `count`, which were written.
        fn unwritten(self, count: usize) -> Vec<T> {
            match self {
                Values::Plain(mut values, _) => {
                    values.drain(..count);
                    values
                }
                Values::Buffered(mut buf) if !T::PLAIN => {
                    buf.written = count;
                    buf.take::<T>()
                }
                Values::Buffered(_) => Vec::new(),
            }
        }
    }

    /// Values lent to a write, in their memory form (or as they are, when
    /// that is their memory form), and the buffers the lending made.
    struct Lent {
        ptr: *const u8,
        size: usize,
        align: usize,
        cleanup: Vec<(*mut u8, usize, usize)>,
    }

    impl Lent {
        fn new<T: Lend>(values: &[T]) -> Lent {
            if T::PLAIN {
                return Lent { ptr: values.as_ptr().cast(), size: 0, align: 1, cleanup: Vec::new() };
            }
            let (size, align) = (values.len() * T::SIZE, T::ALIGN);
            let ptr = unsafe { super::alloc(size, align) };
            let mut cleanup = Vec::new();
            for (i, value) in values.iter().enumerate() {
                unsafe { T::lend(value, ptr.add(i * T::SIZE), &mut cleanup) };
            }
            Lent { ptr, size, align, cleanup }
        }
    }

    impl Drop for Lent {
        fn drop(&mut self) {
            for &(p, size, align) in &self.cleanup {
                unsafe { super::free(p, size, align) };
            }
            unsafe { super::free(self.ptr.cast_mut(), self.size, self.align) };
        }
    }

    /// A new stream: the end to write values to, and the end to read them
    /// from (pass that one on, in a call or a result).
    pub fn stream_new<T: StreamPayload>() -> (StreamWriter<T>, StreamReader<T>) {
        let ends = unsafe { T::new() } as u64;
        (
            StreamWriter { end: (ends >> 32) as u32, done: false, drop: T::drop_writable, _t: PhantomData },
            StreamReader::from_handle(ends as u32 as i32),
        )
    }

    /// The readable end of a `stream<T>`: dropping it tells the writer that
    /// nothing more will be read.
    ///
    /// (The ends hold their intrinsics' drop, so that a type naming a
    /// stream or future that no function passes, and so has no
    /// intrinsics, still compiles.)
    pub struct StreamReader<T> {
        /// 0 once handed over (passed on in a call or a result).
        end: Cell<u32>,
        done: bool,
        drop: unsafe fn(i32),
        _t: PhantomData<T>,
    }

    impl<T> core::fmt::Debug for StreamReader<T> {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            write!(f, "StreamReader({})", self.end.get())
        }
    }

    impl<T: StreamPayload> StreamReader<T> {
        #[doc(hidden)]
        pub fn from_handle(end: i32) -> Self {
            StreamReader { end: Cell::new(end as u32), done: false, drop: T::drop_readable, _t: PhantomData }
        }

        /// The end's handle, handed over: this reader no longer owns it.
        #[doc(hidden)]
        pub fn take_handle(&self) -> i32 {
            self.end.replace(0) as i32
        }

        /// Up to `max` values (at least one), waiting until some come;
        /// `None` once the writer is gone and every value was read.
        pub async fn read(&mut self, max: usize) -> Option<Vec<T>> {
            let end = self.end.get();
            if self.done || end == 0 {
                return None;
            }
            let max = max.max(1);
            let mut values = Values::<T>::reading(max);
            let (buf, given_up) = values.at();
            let code = unsafe { T::read(end as i32, buf, max) } as u32;
            let code = copied(end, code, T::cancel_read, given_up).await;
            let values = values.read((code >> 4) as usize);
            if code & 0xf == DROPPED {
                self.done = true;
            }
            match values.len() {
                0 if self.done => None,
                _ => Some(values),
            }
        }

        /// Every value until the writer is gone, read `chunk` at a time.
        pub async fn read_all(&mut self, chunk: usize) -> Vec<T> {
            let mut all = Vec::new();
            while let Some(mut values) = self.read(chunk).await {
                all.append(&mut values);
            }
            all
        }
    }

    impl<T> Drop for StreamReader<T> {
        fn drop(&mut self) {
            let end = self.end.get();
            if end != 0 {
                unsafe { (self.drop)(end as i32) };
            }
        }
    }

    /// The writable end of a `stream<T>`: dropping it ends the stream.
    pub struct StreamWriter<T> {
        end: u32,
        done: bool,
        drop: unsafe fn(i32),
        _t: PhantomData<T>,
    }

    impl<T: StreamPayload> StreamWriter<T> {
        /// Writes `count` values stored at `buf`: how many the reader took.
        async fn write_raw(&mut self, buf: *const u8, count: usize, given_up: &Cell<u32>) -> usize {
            let code = unsafe { T::write(self.end as i32, buf, count) } as u32;
            let code = copied(self.end, code, T::cancel_write, given_up).await;
            if code & 0xf == DROPPED {
                self.done = true;
            }
            (code >> 4) as usize
        }

        /// Writes some of `values`, waiting until the reader takes them:
        /// how many it took (0 once the reader is gone). Their strings and
        /// lists are lent, not copied; values holding handles, futures or
        /// streams are written with [`StreamWriter::write_owned`].
        pub async fn write(&mut self, values: &[T]) -> usize
        where
            T: Lend,
        {
            if self.done || values.is_empty() {
                return 0;
            }
            let lent = Lent::new(values);
            self.write_raw(lent.ptr, values.len(), &Cell::new(BLOCKED)).await
        }

        /// Writes all of `values`: how many the reader took before it went
        /// away (all of them, unless it did).
        pub async fn write_all(&mut self, values: &[T]) -> usize
        where
            T: Lend,
        {
            let mut written = 0;
            while written < values.len() {
                let n = self.write(&values[written..]).await;
                if n == 0 && self.done {
                    break;
                }
                written += n;
            }
            written
        }

        /// Writes some of `values`, handing them over (the way to write
        /// handles): the values the reader did not take, in order.
        pub async fn write_owned(&mut self, values: Vec<T>) -> Vec<T> {
            if self.done || values.is_empty() {
                return values;
            }
            let count = values.len();
            let mut values = Values::writing(values);
            let (buf, given_up) = values.at();
            let written = self.write_raw(buf, count, given_up).await;
            values.unwritten(written)
        }

        /// Writes all of `values`, handing them over: those the reader did
        /// not take before it went away (none, unless it did).
        pub async fn write_all_owned(&mut self, mut values: Vec<T>) -> Vec<T> {
            while !values.is_empty() && !self.done {
                values = self.write_owned(values).await;
            }
            values
        }

        /// The reader is gone: nothing written will be read.
        pub fn is_closed(&self) -> bool {
            self.done
        }
    }

    impl<T> Drop for StreamWriter<T> {
        fn drop(&mut self) {
            unsafe { (self.drop)(self.end as i32) };
        }
    }

    /// A new future: the end to write its value to (once), and the end to
    /// read it from (pass that one on, in a call or a result).
    pub fn future_new<T: FuturePayload>() -> (FutureWriter<T>, FutureReader<T>) {
        let ends = unsafe { T::new() } as u64;
        (
            FutureWriter { end: (ends >> 32) as u32, drop: T::drop_writable, _t: PhantomData },
            FutureReader::from_handle(ends as u32 as i32),
        )
    }

    /// The readable end of a `future<T>`.
    pub struct FutureReader<T> {
        /// 0 once handed over or read.
        end: Cell<u32>,
        drop: unsafe fn(i32),
        _t: PhantomData<T>,
    }

    impl<T> core::fmt::Debug for FutureReader<T> {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            write!(f, "FutureReader({})", self.end.get())
        }
    }

    impl<T: FuturePayload> FutureReader<T> {
        #[doc(hidden)]
        pub fn from_handle(end: i32) -> Self {
            FutureReader { end: Cell::new(end as u32), drop: T::drop_readable, _t: PhantomData }
        }

        /// The end's handle, handed over: this reader no longer owns it.
        #[doc(hidden)]
        pub fn take_handle(&self) -> i32 {
            self.end.replace(0) as i32
        }

        /// The value, once it is written; `None` if the writer went away
        /// without writing it.
        pub async fn read(self) -> Option<T> {
            let end = self.take_handle() as u32;
            assert!(end != 0, "a future read after it was handed over");
            // Dropped last, however the read ends: given up, the read is
            // cancelled first (`copied`), then the end dropped, so that the
            // writer learns the reader is gone.
            let _end = Owned(end, T::drop_readable);
            let mut buf = Buffer::new::<T>(1, true, true);
            let code = unsafe { T::read(end as i32, buf.ptr) } as u32;
            let code = copied(end, code, T::cancel_read, &buf.given_up).await;
            if code & 0xf == DROPPED {
                return None;
            }
            buf.held = 1;
            buf.take::<T>().pop()
        }
    }

    impl<T> Drop for FutureReader<T> {
        fn drop(&mut self) {
            let end = self.end.get();
            if end != 0 {
                unsafe { (self.drop)(end as i32) };
            }
        }
    }

    /// The writable end of a `future<T>`.
    pub struct FutureWriter<T> {
        end: u32,
        drop: unsafe fn(i32),
        _t: PhantomData<T>,
    }

    impl<T: FuturePayload> FutureWriter<T> {
        /// Writes the value, waiting until the reader takes it: whether it
        /// did (`false`: the reader went away first, and the value is
        /// dropped).
        ///
        /// The component model wants every future written once: a writer
        /// dropped without writing, or whose write is given up (its future
        /// dropped) before the reader took the value, traps.
        pub async fn write(self, value: T) -> bool {
            let end = self.end;
            core::mem::forget(self);
            let _end = Owned(end, T::drop_writable);
            let mut buf = Buffer::new::<T>(1, false, true);
            buf.fill(alloc::vec![value]);
            let code = unsafe { T::write(end as i32, buf.ptr) } as u32;
            let code = copied(end, code, T::cancel_write, &buf.given_up).await;
            buf.written = usize::from(code & 0xf != DROPPED);
            buf.written == 1
        }
    }

    /// A future's end taken out of its reader or writer, dropped with it.
    struct Owned(u32, unsafe fn(i32));

    impl Drop for Owned {
        fn drop(&mut self) {
            unsafe { (self.1)(self.0 as i32) };
        }
    }

    impl<T> Drop for FutureWriter<T> {
        fn drop(&mut self) {
            unsafe { (self.drop)(self.end as i32) };
        }
    }
"#;

/// The impls of every element type the world's futures and streams carry:
/// `Payload` (its buffer form, from the abi crate's element plan), `Lend`
/// (when values hold no handles, futures or streams) and the
/// `StreamPayload`/`FuturePayload` intrinsics, bound to the imports of the
/// first function passing one (every function's are the same type's).
pub(super) fn payload_impls(g: &Gen<'_>) -> Result<String, BindError> {
    let plan = AsyncWorldPlan::new(g.resolve, g.world)?;
    let types = g.plan.types();
    let rt_path = ["_rt".to_string()];
    let mut elements = BTreeSet::new();
    let mut bound = BTreeSet::new();
    let mut out = String::new();
    for payload in &plan.payloads {
        let (key, spelled) = match &payload.element {
            None => ("()".to_string(), "()".to_string()),
            Some(t) => (
                crate::aliases::identity(g.resolve, t),
                g.ty(&g.unalias(t), &rt_path),
            ),
        };
        if elements.insert(key.clone()) {
            match &payload.element {
                None => out.push_str(UNIT_PAYLOAD),
                Some(t) => {
                    let element = types.element(t)?;
                    element_impls(g, payload, &element, &spelled, &rt_path, &mut out)?;
                }
            }
        }
        if bound.insert((payload.kind == PayloadKind::Stream, key)) {
            intrinsic_impl(payload, &spelled, &mut out)?;
        }
    }
    Ok(out)
}

/// `()`: a future or stream of nothing moves no bytes.
const UNIT_PAYLOAD: &str = "unsafe impl task::Payload for () {
const SIZE: usize = 0;
const ALIGN: usize = 1;
const PLAIN: bool = true;
unsafe fn store(_: Self, _: *mut u8) {}
unsafe fn load(_: *mut u8) -> Self {}
unsafe fn free_written(_: *mut u8) {}
}
unsafe impl task::Lend for () {
unsafe fn lend(_: &Self, _: *mut u8, _: &mut Vec<(*mut u8, usize, usize)>) {}
}
";

/// `Payload` (and `Lend`) of one element type: the element plan's blocks,
/// spelled by the function-body writer with the base at a value in the
/// buffer (`base`), as one of the functions passing the type.
fn element_impls(
    g: &Gen<'_>,
    payload: &PayloadPlan,
    element: &ElementPlan,
    spelled: &str,
    rt_path: &[String],
    out: &mut String,
) -> Result<(), BindError> {
    let f = g.plan.passing(payload).ok_or_else(|| {
        BindError::Internal(format!(
            "no plan of `{}`, which passes a future or stream",
            payload.function
        ))
    })?;
    // The body of a block: its statements, then the expression it leaves.
    let spell = |block: &Block, seed: &[&str]| -> Result<String, BindError> {
        let mut body = Body::new(g, f, rt_path, Mode::Import);
        let seed = seed.iter().map(|s| s.to_string()).collect();
        let results = drive_block(block, seed, &mut body)?;
        Ok(format!("{}{}", body.out, results.join("")))
    };
    let plain = plain_data(g.resolve, &element.element) == PlainData::Number;
    let _ = writeln!(
        out,
        "#[allow(unused_mut, unused_parens, unused_unsafe, unused_variables)]\n\
         unsafe impl task::Payload for {spelled} {{\n\
         const SIZE: usize = {};\nconst ALIGN: usize = {};\nconst PLAIN: bool = {plain};\n\
         unsafe fn store(value: Self, base: *mut u8) {{\nunsafe {{\n{}}}\n}}\n\
         unsafe fn load(base: *mut u8) -> Self {{\nunsafe {{\n{}\n}}\n}}\n\
         unsafe fn free_written(base: *mut u8) {{\nunsafe {{\n{}}}\n}}\n}}",
        element.layout.size,
        element.layout.align,
        spell(&element.store, &["value"])?,
        spell(&element.load, &[])?,
        spell(&element.free_written, &[])?,
    );
    if let Some(lend) = &element.lend {
        let _ = writeln!(
            out,
            "#[allow(unused_mut, unused_parens, unused_unsafe, unused_variables)]\n\
             unsafe impl task::Lend for {spelled} {{\n\
             unsafe fn lend(value: &Self, base: *mut u8, cleanup: &mut Vec<(*mut u8, usize, usize)>) {{\n\
             unsafe {{\n{}}}\n}}\n}}",
            spell(lend, &["(*value)"])?
        );
    }
    Ok(())
}

/// `StreamPayload` or `FuturePayload` of one element type: its intrinsics,
/// as `payload`'s function imports them.
fn intrinsic_impl(payload: &PayloadPlan, spelled: &str, out: &mut String) -> Result<(), BindError> {
    let (trait_name, count) = match payload.kind {
        PayloadKind::Stream => ("StreamPayload", ", count: usize"),
        PayloadKind::Future => ("FuturePayload", ""),
    };
    let _ = writeln!(out, "unsafe impl task::{trait_name} for {spelled} {{");
    for (op, intrinsic) in &payload.intrinsics {
        let counted = |args: &str| match count.is_empty() {
            true => args.to_string(),
            false => format!("{args}, count"),
        };
        let (method, args) = match op {
            PayloadOp::New => ("new() -> i64".to_string(), String::new()),
            PayloadOp::Read => (
                format!("read(end: i32, buf: *mut u8{count}) -> i32"),
                counted("end, buf"),
            ),
            PayloadOp::Write => (
                format!("write(end: i32, buf: *const u8{count}) -> i32"),
                counted("end, buf.cast_mut()"),
            ),
            PayloadOp::CancelRead => ("cancel_read(end: i32) -> i32".into(), "end".into()),
            PayloadOp::CancelWrite => ("cancel_write(end: i32) -> i32".into(), "end".into()),
            PayloadOp::DropReadable => ("drop_readable(end: i32)".into(), "end".into()),
            PayloadOp::DropWritable => ("drop_writable(end: i32)".into(), "end".into()),
        };
        let CoreName::Import { module, field } = &intrinsic.name else {
            return Err(BindError::Internal(
                "a payload intrinsic that is no import".into(),
            ));
        };
        let sig = func::core_signature(&intrinsic.signature)?;
        let _ = writeln!(
            out,
            "unsafe fn {method} {{\n\
             #[cfg(target_arch = \"wasm32\")]\n#[link(wasm_import_module = {module:?})]\n\
             unsafe extern \"C\" {{\n#[link_name = {field:?}]\nfn wit_import{sig};\n}}\n\
             #[cfg(not(target_arch = \"wasm32\"))]\nunsafe extern \"C\" fn wit_import{sig} {{ unreachable!() }}\n\
             unsafe {{ wit_import({args}) }}\n}}"
        );
    }
    out.push_str("}\n");
    Ok(())
}

/// The world names a future or stream in one of its types (used by a
/// function or not: every type is spelled).
pub(super) fn world_has_payloads(g: &Gen<'_>) -> bool {
    crate::aliases::world_has_payloads(g.resolve, g.world)
}

/// Reading a future or stream whose values hold strings or lists takes
/// `cabi_realloc`, which the canonical ABI calls to make their copies.
pub(super) fn reads_need_realloc(g: &Gen<'_>) -> bool {
    AsyncWorldPlan::new(g.resolve, g.world).is_ok_and(|plan| {
        plan.payloads
            .iter()
            .filter_map(|p| p.element.as_ref())
            .any(|t| wcomp_abi::has_memory(g.resolve, t))
    })
}
