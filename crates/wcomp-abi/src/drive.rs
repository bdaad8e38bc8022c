//! The driver: walks a step sequence for a [`Backend`], owning the operand
//! stack and the nested blocks, and checking every step's declared effect.
//! (The protocol is on [`Backend`].)

use std::fmt;

use wit_parser::Type;

use crate::step::{Block, Kind, Step, kinds};

/// A language backend, spelling one step at a time.
///
/// A backend spells one step at a time. A simple step is one call,
/// [`Backend::step`], with the step's operands (popped by the driver, the
/// deepest first); the backend returns what the step pushes. A compound
/// step is a bracket of calls:
///
/// 1. [`Backend::begin`] with the step's operands (and whether the list is
///    copied as bytes, for list steps);
/// 2. for each block, in order: [`Backend::enter`] returns the block's seed
///    operands, the driver walks the block's steps, and [`Backend::leave`]
///    receives what the block left;
/// 3. [`Backend::end`] returns what the step pushes.
///
/// Compound steps nest (a block may hold compound steps), so a backend
/// keeps a stack of its open steps. The driver checks, at every step: the
/// operands' kinds against what the step pops ([`Kind::fits`]), the number
/// of operands the backend returns, seeds and block results against the
/// block's declared effect, and that the cases of a variant agree. Every
/// mismatch is a [`DriveError`] naming the step: a bug in the plan or in
/// the backend, never a property of the input.
pub trait Backend {
    /// The backend's representation of an operand (for a source generator,
    /// an expression).
    type Operand: Clone + fmt::Debug;
    /// The backend's error; the driver's own errors convert into it.
    type Error: From<DriveError>;

    /// Whether the buffer of a list of `element` is copied (or taken) as
    /// bytes, the language's own storage of the list already being the
    /// canonical layout; the list's per-element block is then not driven.
    /// The default copies nothing as bytes.
    fn list_as_bytes(&mut self, element: &Type) -> bool {
        let _ = element;
        false
    }

    /// As [`Backend::list_as_bytes`], for the entries of a map of `key` to
    /// `value` (each entry laid out as a `tuple<key, value>`). The default
    /// copies nothing as bytes.
    fn map_as_bytes(&mut self, key: &Type, value: &Type) -> bool {
        let _ = (key, value);
        false
    }

    /// Spells a step without blocks: `operands` are what it pops (the
    /// deepest first); returns what it pushes.
    fn step(
        &mut self,
        step: &Step,
        operands: Vec<Self::Operand>,
    ) -> Result<Vec<Self::Operand>, Self::Error>;

    /// A step with blocks begins: `operands` are what it pops; `as_bytes`
    /// is the backend's [`Backend::list_as_bytes`] (or
    /// [`Backend::map_as_bytes`]) answer for a list (or map) step, false
    /// otherwise.
    fn begin(
        &mut self,
        step: &Step,
        operands: Vec<Self::Operand>,
        as_bytes: bool,
    ) -> Result<(), Self::Error>;

    /// Block `index` of the innermost open step begins: returns its seed,
    /// operands of the block's [`params`](Block::params) kinds.
    fn enter(&mut self, index: usize) -> Result<Vec<Self::Operand>, Self::Error>;

    /// The block that last began ends, leaving `results` (of the block's
    /// [`results`](Block::results) kinds).
    fn leave(&mut self, results: Vec<Self::Operand>) -> Result<(), Self::Error>;

    /// The innermost open step ends: returns what it pushes.
    fn end(&mut self) -> Result<Vec<Self::Operand>, Self::Error>;
}

/// A step sequence and a backend disagree with the declared effects: a bug
/// in wcomp (the plan or the backend), never in the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
pub enum DriveError {
    #[error("wcomp bug: step `{step}` pops {needed}, but the operand stack ends in {found}")]
    #[diagnostic(code(wcomp::abi::drive))]
    Operands {
        step: &'static str,
        needed: String,
        found: String,
    },

    #[error(
        "wcomp bug: the backend answered step `{step}` with {got} operands, where it pushes {expected}"
    )]
    #[diagnostic(code(wcomp::abi::drive))]
    Outputs {
        step: &'static str,
        expected: usize,
        got: usize,
    },

    #[error(
        "wcomp bug: the backend seeded block {block} of step `{step}` with {got} operands, where it takes {expected}"
    )]
    #[diagnostic(code(wcomp::abi::drive))]
    Seed {
        step: &'static str,
        block: usize,
        expected: usize,
        got: usize,
    },

    #[error(
        "wcomp bug: block {block} of step `{step}` leaves {found}, where it declares {declared}"
    )]
    #[diagnostic(code(wcomp::abi::drive))]
    BlockResults {
        step: &'static str,
        block: usize,
        declared: String,
        found: String,
    },

    #[error("wcomp bug: the blocks of step `{step}` disagree: {what}")]
    #[diagnostic(code(wcomp::abi::drive))]
    Malformed { step: &'static str, what: String },

    #[error("wcomp bug: a sequence was given {got} operands, where it takes {expected}")]
    #[diagnostic(code(wcomp::abi::drive))]
    Inputs { expected: usize, got: usize },

    #[error("wcomp bug: a sequence leaves {found}, where it declares {declared}")]
    #[diagnostic(code(wcomp::abi::drive))]
    Leftover { declared: String, found: String },
}

/// Walks `steps`, a whole sequence (`[] -> []`, as a function's
/// [`call`](crate::FunctionPlan::call) or a post-return function's steps),
/// for `backend`.
pub fn drive<B: Backend>(steps: &[Step], backend: &mut B) -> Result<(), B::Error> {
    sequence(&[], &[], steps, Vec::new(), backend).map(|_| ())
}

/// Walks `block` seeded with `inputs` (of its [`params`](Block::params)
/// kinds) for `backend`; returns what it leaves (of its
/// [`results`](Block::results) kinds).
pub fn drive_block<B: Backend>(
    block: &Block,
    inputs: Vec<B::Operand>,
    backend: &mut B,
) -> Result<Vec<B::Operand>, B::Error> {
    sequence(&block.params, &block.results, &block.steps, inputs, backend)
}

fn sequence<B: Backend>(
    params: &[Kind],
    results: &[Kind],
    steps: &[Step],
    inputs: Vec<B::Operand>,
    backend: &mut B,
) -> Result<Vec<B::Operand>, B::Error> {
    if inputs.len() != params.len() {
        return Err(DriveError::Inputs {
            expected: params.len(),
            got: inputs.len(),
        }
        .into());
    }
    let mut stack: Stack<B::Operand> = params.iter().copied().zip(inputs).collect();
    run(steps, &mut stack, backend)?;
    if !fits(&stack, results) {
        return Err(DriveError::Leftover {
            declared: kinds(results),
            found: kinds(&stack_kinds(&stack)),
        }
        .into());
    }
    Ok(stack.into_iter().map(|(_, op)| op).collect())
}

type Stack<O> = Vec<(Kind, O)>;

fn stack_kinds<O>(stack: &[(Kind, O)]) -> Vec<Kind> {
    stack.iter().map(|(k, _)| *k).collect()
}

/// The stack holds exactly operands of kinds `want`.
fn fits<O>(stack: &[(Kind, O)], want: &[Kind]) -> bool {
    stack.len() == want.len() && stack.iter().zip(want).all(|((k, _), w)| k.fits(*w))
}

fn run<B: Backend>(
    steps: &[Step],
    stack: &mut Stack<B::Operand>,
    backend: &mut B,
) -> Result<(), B::Error> {
    for step in steps {
        let effect = step.effect();
        let at = stack.len().checked_sub(effect.pops.len());
        let operands: Vec<B::Operand> = match at {
            Some(at) if fits(&stack[at..], &effect.pops) => {
                stack.drain(at..).map(|(_, op)| op).collect()
            }
            _ => {
                let shown = stack.len().saturating_sub(effect.pops.len().max(1));
                return Err(DriveError::Operands {
                    step: step.name(),
                    needed: kinds(&effect.pops),
                    found: kinds(&stack_kinds(&stack[shown..])),
                }
                .into());
            }
        };
        let blocks = step.blocks();
        let outputs = if blocks.is_empty() {
            backend.step(step, operands)?
        } else {
            check_cases(step)?;
            let as_bytes = match step {
                Step::ListLower { element, .. } | Step::ListLift { element, .. } => {
                    backend.list_as_bytes(element)
                }
                Step::MapLower { key, value, .. } | Step::MapLift { key, value, .. } => {
                    backend.map_as_bytes(key, value)
                }
                _ => false,
            };
            backend.begin(step, operands, as_bytes)?;
            if !as_bytes {
                for (index, block) in blocks.into_iter().enumerate() {
                    let seed = backend.enter(index)?;
                    if seed.len() != block.params.len() {
                        return Err(DriveError::Seed {
                            step: step.name(),
                            block: index,
                            expected: block.params.len(),
                            got: seed.len(),
                        }
                        .into());
                    }
                    let mut inner: Stack<B::Operand> =
                        block.params.iter().copied().zip(seed).collect();
                    run(&block.steps, &mut inner, backend)?;
                    if !fits(&inner, &block.results) {
                        return Err(DriveError::BlockResults {
                            step: step.name(),
                            block: index,
                            declared: kinds(&block.results),
                            found: kinds(&stack_kinds(&inner)),
                        }
                        .into());
                    }
                    backend.leave(inner.into_iter().map(|(_, op)| op).collect())?;
                }
            }
            backend.end()?
        };
        if outputs.len() != effect.pushes.len() {
            return Err(DriveError::Outputs {
                step: step.name(),
                expected: effect.pushes.len(),
                got: outputs.len(),
            }
            .into());
        }
        stack.extend(effect.pushes.into_iter().zip(outputs));
    }
    Ok(())
}

/// The cases of a variant step agree: a lower's cases leave the same
/// kinds, a lift's cases take the joined payload.
fn check_cases(step: &Step) -> Result<(), DriveError> {
    let malformed = |what: String| DriveError::Malformed {
        step: step.name(),
        what,
    };
    match step {
        Step::VariantLower { .. } | Step::OptionLower { .. } | Step::ResultLower { .. } => {
            let blocks = step.blocks();
            let first = blocks.first().map(|b| &b.results);
            if let Some(b) = blocks.iter().find(|b| Some(&b.results) != first) {
                return Err(malformed(format!(
                    "a case leaves {} where another leaves {}",
                    kinds(&b.results),
                    kinds(first.map_or(&[][..], |r| &r[..]))
                )));
            }
        }
        Step::VariantLift { joined, .. }
        | Step::OptionLift { joined, .. }
        | Step::ResultLift { joined, .. } => {
            let joined = crate::step::cores(joined);
            if let Some(b) = step.blocks().iter().find(|b| b.params != joined) {
                return Err(malformed(format!(
                    "a case takes {} where the joined payload is {}",
                    kinds(&b.params),
                    kinds(&joined)
                )));
            }
        }
        _ => {}
    }
    Ok(())
}
