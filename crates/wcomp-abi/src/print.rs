//! A readable dump of a plan, for tests, debugging and reports.

use std::fmt::{self, Write};

use super::{Block, CoreName, FunctionPlan, Place, ResourcePlan, Step, ValuePlan};

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
            "  indirect_params {} retptr {} realloc {}",
            sig.indirect_params, sig.retptr, self.needs_realloc
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
        "  {} ({place}; size {} align {}; flat {:?}):",
        v.name, v.layout.size, v.layout.align, v.flat
    )?;
    steps(f, &v.steps, 2)
}

fn steps(f: &mut fmt::Formatter<'_>, steps_: &[Step], depth: usize) -> fmt::Result {
    let pad = "  ".repeat(depth);
    for s in steps_ {
        let blocks: Vec<(String, &Block)> = match s {
            Step::RecordLower { fields, .. }
            | Step::RecordLift { fields, .. }
            | Step::TupleLower { fields, .. }
            | Step::TupleLift { fields, .. } => fields
                .iter()
                .enumerate()
                .map(|(i, b)| (format!("field {i}"), b))
                .collect(),
            Step::VariantLower { cases, .. } | Step::VariantLift { cases, .. } => cases
                .iter()
                .enumerate()
                .map(|(i, b)| (format!("case {i}"), b))
                .collect(),
            Step::OptionLower { none, some, .. } | Step::OptionLift { none, some, .. } => {
                vec![("none".into(), none), ("some".into(), some)]
            }
            Step::ResultLower { ok, err, .. } | Step::ResultLift { ok, err, .. } => {
                vec![("ok".into(), ok), ("err".into(), err)]
            }
            _ => Vec::new(),
        };
        let mut head = String::new();
        let nested: Option<(&str, &[Step])> = match s {
            Step::ListLower {
                element,
                layout,
                store,
                byte_copy,
                realloc,
            } => {
                write!(
                    head,
                    "ListLower {{ element: {element:?}, size: {}, align: {}, byte_copy: {byte_copy}, realloc: {realloc} }}",
                    layout.size, layout.align
                )?;
                Some(("store", store))
            }
            Step::ListLift {
                element,
                layout,
                load,
                byte_copy,
            } => {
                write!(
                    head,
                    "ListLift {{ element: {element:?}, size: {}, align: {}, byte_copy: {byte_copy} }}",
                    layout.size, layout.align
                )?;
                Some(("load", load))
            }
            Step::FreeList {
                offset,
                layout,
                element,
            } => {
                write!(
                    head,
                    "FreeList {{ offset: {offset}, size: {}, align: {} }}",
                    layout.size, layout.align
                )?;
                Some(("element", element))
            }
            Step::FreeVariant {
                offset,
                discriminant,
                ..
            } => {
                write!(
                    head,
                    "FreeVariant {{ offset: {offset}, discriminant: {discriminant:?} }}"
                )?;
                None
            }
            _ if !blocks.is_empty() => {
                let dbg = format!("{s:?}");
                let name = dbg
                    .split([' ', '{', '('])
                    .next()
                    .unwrap_or_default()
                    .to_string();
                head.push_str(&name);
                if let Step::VariantLift { joined, .. }
                | Step::OptionLift { joined, .. }
                | Step::ResultLift { joined, .. } = s
                {
                    write!(head, " {{ joined: {joined:?} }}")?;
                }
                None
            }
            _ => {
                write!(head, "{s:?}")?;
                None
            }
        };
        writeln!(f, "{pad}{head}")?;
        if let Some((label, inner)) = nested {
            writeln!(f, "{pad}  {label}:")?;
            steps(f, inner, depth + 2)?;
        }
        for (label, b) in blocks {
            if b.inputs > 0 {
                writeln!(f, "{pad}  {label} (inputs {}):", b.inputs)?;
            } else {
                writeln!(f, "{pad}  {label}:")?;
            }
            steps(f, &b.steps, depth + 2)?;
        }
        if let Step::FreeVariant { cases, .. } = s {
            for (i, c) in cases.iter().enumerate() {
                writeln!(f, "{pad}  case {i}:")?;
                steps(f, c, depth + 2)?;
            }
        }
    }
    Ok(())
}
