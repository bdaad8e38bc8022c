//! A readable dump of a plan, for tests, debugging and reports.

use std::fmt::{self, Write};

use crate::step::kinds;
use crate::{Block, CoreName, FunctionPlan, Place, ResourcePlan, Step, ValuePlan};

impl fmt::Display for FunctionPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sig = &self.signature;
        writeln!(
            f,
            "{:?} `{}` of `{}`",
            self.direction, self.function.name, self.owner
        )?;
        write!(f, "  ")?;
        core_name(f, &self.core_name)?;
        writeln!(f)?;
        writeln!(f, "  core type {:?} -> {:?}", sig.params, sig.results)?;
        writeln!(
            f,
            "  indirect_params {} retptr {} memory {} realloc {}",
            sig.indirect_params, sig.retptr, self.needs_memory, self.needs_realloc
        )?;
        if let Some(a) = self.params_area {
            writeln!(f, "  params area size {} align {}", a.size, a.align)?;
        }
        if let Some(a) = self.return_area {
            writeln!(f, "  return area size {} align {}", a.size, a.align)?;
        }
        for p in self.params.iter().chain(&self.result) {
            value(f, p)?;
        }
        writeln!(f, "  call:")?;
        steps(f, &self.call, 2)?;
        if let Some(post) = &self.post_return {
            writeln!(f, "  post-return \"{}\"", post.name)?;
            steps(f, &post.steps, 2)?;
        }
        Ok(())
    }
}

impl fmt::Display for ResourcePlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:?} resource `{}` of `{}`",
            self.direction, self.name, self.owner
        )?;
        for func in self.core_funcs() {
            write!(f, "  ")?;
            core_name(f, &func.name)?;
            let sig = &func.signature;
            writeln!(f, " {:?} -> {:?}", sig.params, sig.results)?;
        }
        Ok(())
    }
}

fn core_name(f: &mut fmt::Formatter<'_>, name: &CoreName) -> fmt::Result {
    match name {
        CoreName::Import { module, field } => write!(f, "core import \"{module}\" \"{field}\""),
        CoreName::Export { name } => write!(f, "core export \"{name}\""),
    }
}

fn value(f: &mut fmt::Formatter<'_>, v: &ValuePlan) -> fmt::Result {
    let place = match v.place {
        Place::Flat { first, count } => format!("flat [{first}..{})", first + count),
        Place::Memory { offset } => format!("memory +{offset}"),
    };
    writeln!(
        f,
        "  {} ({place}; size {} align {}; flat {:?})",
        v.name, v.layout.size, v.layout.align, v.flat
    )
}

/// What to call the blocks of a compound step.
fn labels(s: &Step) -> Vec<String> {
    let count = s.blocks().len();
    match s {
        Step::ListLower { .. } | Step::MapLower { .. } => vec!["store".into()],
        Step::ListLift { .. } | Step::MapLift { .. } => vec!["load".into()],
        Step::FreeList { .. } => vec!["element".into()],
        Step::RecordLower { .. }
        | Step::RecordLift { .. }
        | Step::TupleLower { .. }
        | Step::TupleLift { .. } => (0..count).map(|i| format!("field {i}")).collect(),
        Step::OptionLower { .. } | Step::OptionLift { .. } => vec!["none".into(), "some".into()],
        Step::ResultLower { .. } | Step::ResultLift { .. } => vec!["ok".into(), "err".into()],
        _ => (0..count).map(|i| format!("case {i}")).collect(),
    }
}

/// One line per step; the fields of a compound step that are not blocks
/// on its line, its blocks below it with their effects.
fn head(s: &Step) -> Result<String, fmt::Error> {
    let mut head = String::new();
    match s {
        Step::ListLower {
            element,
            layout,
            realloc,
            ..
        } => write!(
            head,
            "ListLower {{ element: {element:?}, size: {}, align: {}, realloc: {realloc} }}",
            layout.size, layout.align
        )?,
        Step::ListLift {
            element, layout, ..
        } => write!(
            head,
            "ListLift {{ element: {element:?}, size: {}, align: {} }}",
            layout.size, layout.align
        )?,
        Step::MapLower {
            key,
            value,
            layout,
            value_offset,
            realloc,
            ..
        } => write!(
            head,
            "MapLower {{ key: {key:?}, value: {value:?}, size: {}, align: {}, value at: {value_offset}, realloc: {realloc} }}",
            layout.size, layout.align
        )?,
        Step::MapLift {
            key,
            value,
            layout,
            value_offset,
            ..
        } => write!(
            head,
            "MapLift {{ key: {key:?}, value: {value:?}, size: {}, align: {}, value at: {value_offset} }}",
            layout.size, layout.align
        )?,
        Step::FreeList { offset, layout, .. } => write!(
            head,
            "FreeList {{ offset: {offset}, size: {}, align: {} }}",
            layout.size, layout.align
        )?,
        Step::FreeVariant {
            offset,
            discriminant,
            ..
        } => write!(
            head,
            "FreeVariant {{ offset: {offset}, discriminant: {discriminant:?} }}"
        )?,
        Step::VariantLift { joined, .. }
        | Step::OptionLift { joined, .. }
        | Step::ResultLift { joined, .. } => write!(head, "{} {{ joined: {joined:?} }}", s.name())?,
        _ if !s.blocks().is_empty() => head.push_str(s.name()),
        _ => write!(head, "{s:?}")?,
    }
    Ok(head)
}

fn steps(f: &mut fmt::Formatter<'_>, list: &[Step], depth: usize) -> fmt::Result {
    let pad = "  ".repeat(depth);
    for s in list {
        writeln!(f, "{pad}{}", head(s)?)?;
        for (label, b) in labels(s).iter().zip(s.blocks()) {
            block(f, label, b, depth + 1)?;
        }
    }
    Ok(())
}

fn block(f: &mut fmt::Formatter<'_>, label: &str, b: &Block, depth: usize) -> fmt::Result {
    let pad = "  ".repeat(depth);
    writeln!(
        f,
        "{pad}{label} {} -> {}:",
        kinds(&b.params),
        kinds(&b.results)
    )?;
    steps(f, &b.steps, depth + 1)
}
