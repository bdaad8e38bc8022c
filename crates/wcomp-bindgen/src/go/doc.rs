//! Doc comments as gofmt writes them. gofmt reformats the comment above a
//! top-level declaration (Go's doc comment syntax: paragraphs, `#`
//! headings, lists, indented code), so the bindings write WIT docs in that
//! canonical form already: the generated files are gofmt-clean. This
//! follows Go's `go/doc/comment` parser and printer, for the text WIT docs
//! hold (links are kept as text, as the printer does; link definitions
//! move to the end).

/// The `//` lines of a top-level doc comment holding `text` (lines without
/// their `// `), in gofmt's form.
pub fn doc_comment(text: &str) -> String {
    let lines: Vec<String> = text.lines().map(|l| l.trim_end().to_string()).collect();
    let mut out = String::new();
    for line in format(&lines) {
        if line.is_empty() {
            out.push_str("//\n");
        } else if line.starts_with('\t') {
            out.push_str("//");
            out.push_str(&line);
            out.push('\n');
        } else {
            out.push_str("// ");
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Code,
    Heading,
    List,
    OldHeading,
    Para,
}

struct Span {
    start: usize,
    end: usize,
    kind: Kind,
}

enum Block {
    Para(Vec<String>),
    Heading(String),
    Code(Vec<String>),
    List {
        items: Vec<(String, Vec<Vec<String>>)>,
        blank_before: bool,
        blank_between: bool,
    },
}

/// The canonical lines of a doc comment's text.
fn format(lines: &[String]) -> Vec<String> {
    let lines = unindent(lines);
    let mut blocks: Vec<Block> = Vec::new();
    let mut links: Vec<String> = Vec::new();
    let mut prev_end = 0;
    for s in spans(&lines) {
        let part = &lines[s.start..s.end];
        match s.kind {
            Kind::List => blocks.push(list(part, prev_end < s.start)),
            Kind::Code => blocks.push(Block::Code(unindent(part))),
            Kind::OldHeading => blocks.push(Block::Heading(lines[s.start].trim().to_string())),
            Kind::Heading => blocks.push(Block::Heading(lines[s.start][1..].trim().to_string())),
            Kind::Para => {
                if part.iter().all(|l| is_link_def(l)) {
                    links.extend(part.iter().map(|l| link_def(l)));
                } else {
                    blocks.push(Block::Para(part.to_vec()));
                }
            }
        }
        prev_end = s.end;
    }
    let mut out = Vec::new();
    for (i, b) in blocks.iter().enumerate() {
        let blank = match b {
            Block::List { blank_before, .. } => *blank_before,
            _ => true,
        };
        if i > 0 && blank {
            out.push(String::new());
        }
        match b {
            Block::Para(lines) => out.extend(lines.iter().cloned()),
            Block::Heading(h) => out.push(format!("# {h}")),
            Block::Code(lines) => out.extend(lines.iter().map(|l| {
                if l.is_empty() {
                    String::new()
                } else {
                    format!("\t{l}")
                }
            })),
            Block::List {
                items,
                blank_between,
                ..
            } => {
                for (j, (num, paras)) in items.iter().enumerate() {
                    if j > 0 && *blank_between {
                        out.push(String::new());
                    }
                    let marker = if num.is_empty() {
                        "  - ".to_string()
                    } else {
                        format!(" {num}. ")
                    };
                    if paras.is_empty() {
                        out.push(marker.trim_end().to_string());
                    }
                    for (k, para) in paras.iter().enumerate() {
                        if k > 0 {
                            out.push(String::new());
                        }
                        for (m, line) in para.iter().enumerate() {
                            if k == 0 && m == 0 {
                                out.push(format!("{marker}{line}"));
                            } else {
                                out.push(format!("    {line}"));
                            }
                        }
                    }
                }
            }
        }
    }
    if !links.is_empty() {
        out.push(String::new());
        out.extend(links);
    }
    out
}

/// Go's `parseSpans`: the blocks of the (unindented) lines.
fn spans(lines: &[String]) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut i = 0;
    let mut force_indent = 0;
    let mut watchdog = 2 * lines.len() + 2;
    'spans: loop {
        while i < lines.len() && lines[i].is_empty() {
            i += 1;
        }
        if i >= lines.len() {
            break;
        }
        watchdog = watchdog.saturating_sub(1);
        if watchdog == 0 {
            break;
        }
        let start = i;
        let mut end;
        let kind;
        if i < force_indent || indented(&lines[i]) {
            let mut unindented_list_ok = is_list(&lines[i]) && i < force_indent;
            i += 1;
            while i < lines.len()
                && (lines[i].is_empty()
                    || i < force_indent
                    || indented(&lines[i])
                    || (unindented_list_ok && is_list(&lines[i])))
            {
                if lines[i].is_empty() {
                    unindented_list_ok = false;
                }
                i += 1;
            }
            end = i;
            while end > start && lines[end - 1].is_empty() {
                end -= 1;
            }
            if end < lines.len() && lines[end].starts_with('}') {
                end += 1;
            }
            kind = if is_list(&lines[start]) {
                Kind::List
            } else {
                Kind::Code
            };
        } else {
            i += 1;
            while i < lines.len() && !lines[i].is_empty() && !indented(&lines[i]) {
                i += 1;
            }
            end = i;
            if i < lines.len() && !lines[i].is_empty() && !is_list(&lines[i]) {
                if is_list(&lines[i - 1]) {
                    force_indent = end;
                    end -= 1;
                    while end > start && is_list(&lines[end - 1]) {
                        end -= 1;
                    }
                } else if lines[i - 1].ends_with('{') || lines[i - 1].ends_with('\\') {
                    force_indent = end;
                    end -= 1;
                }
                if start == end && force_indent > start {
                    i = start;
                    continue 'spans;
                }
            }
            kind = if end - start == 1 && is_heading(&lines[start]) {
                Kind::Heading
            } else if end - start == 1 && is_old_heading(&lines[start], lines, start) {
                Kind::OldHeading
            } else {
                Kind::Para
            };
        }
        spans.push(Span { start, end, kind });
        i = end;
    }
    spans
}

fn indented(line: &str) -> bool {
    line.starts_with([' ', '\t'])
}

fn leading_space(s: &str) -> &str {
    let n = s.len() - s.trim_start_matches([' ', '\t']).len();
    &s[..n]
}

/// Go's `unindent`: the common leading space removed, blank lines made
/// empty, and leading and trailing blank lines dropped.
fn unindent(lines: &[String]) -> Vec<String> {
    let mut lines: &[String] = lines;
    while lines.first().is_some_and(|l| l.is_empty()) {
        lines = &lines[1..];
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines = &lines[..lines.len() - 1];
    }
    let Some(first) = lines.first() else {
        return Vec::new();
    };
    let mut prefix = leading_space(first).to_string();
    for l in &lines[1..] {
        if !l.is_empty() {
            let lead = leading_space(l);
            let n = prefix
                .bytes()
                .zip(lead.bytes())
                .take_while(|(a, b)| a == b)
                .count();
            prefix.truncate(n);
        }
    }
    let mut out: Vec<String> = lines
        .iter()
        .map(|l| {
            let l = l.strip_prefix(prefix.as_str()).unwrap_or(l);
            if l.trim().is_empty() {
                String::new()
            } else {
                l.to_string()
            }
        })
        .collect();
    while out.first().is_some_and(String::is_empty) {
        out.remove(0);
    }
    while out.last().is_some_and(String::is_empty) {
        out.pop();
    }
    out
}

/// Go's `listMarker`: (number, rest) when the line starts a list item.
fn list_marker(line: &str) -> Option<(String, &str)> {
    let line = line.trim_matches([' ', '\t']);
    let (num, rest) = match line.chars().next()? {
        '•' | '*' | '+' | '-' => {
            let c = line.chars().next()?;
            (String::new(), &line[c.len_utf8()..])
        }
        '0'..='9' => {
            let n = line.bytes().take_while(u8::is_ascii_digit).count();
            match line.as_bytes().get(n) {
                Some(b'.' | b')') => (line[..n].to_string(), &line[n + 1..]),
                _ => return None,
            }
        }
        _ => return None,
    };
    if !indented(rest) || rest.trim().is_empty() {
        return None;
    }
    Some((num, rest))
}

fn is_list(line: &str) -> bool {
    list_marker(line).is_some()
}

fn list(lines: &[String], force_blank_before: bool) -> Block {
    let numbered = list_marker(&lines[0]).is_some_and(|(n, _)| !n.is_empty());
    // Each item: its number and its paragraphs.
    let mut items: Vec<(String, Vec<Vec<String>>)> = Vec::new();
    let mut force_blank_between = false;
    let mut text: Vec<String> = Vec::new();
    let flush = |items: &mut Vec<(String, Vec<Vec<String>>)>, text: &mut Vec<String>| {
        if let Some((_, paras)) = items.last_mut()
            && !text.is_empty()
        {
            paras.push(std::mem::take(text));
        }
        text.clear();
    };
    for line in lines {
        let mut line: &str = line;
        if let Some((n, rest)) = list_marker(line)
            && n.is_empty() != numbered
        {
            flush(&mut items, &mut text);
            items.push((n, Vec::new()));
            line = rest;
        }
        let line = line.trim();
        if line.is_empty() {
            force_blank_between = true;
            flush(&mut items, &mut text);
            continue;
        }
        text.push(line.to_string());
    }
    flush(&mut items, &mut text);
    let blank_between = force_blank_between || items.iter().any(|(_, p)| p.len() != 1);
    Block::List {
        items,
        blank_before: force_blank_before || blank_between,
        blank_between,
    }
}

fn is_heading(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() >= 2 && b[0] == b'#' && (b[1] == b' ' || b[1] == b'\t') && line.trim() != "#"
}

/// Go's `isOldHeading`: a lone, title-like line between blank lines,
/// followed by unindented text.
fn is_old_heading(line: &str, all: &[String], off: usize) -> bool {
    if off == 0
        || !all[off - 1].is_empty()
        || off + 2 >= all.len()
        || !all[off + 1].is_empty()
        || !leading_space(&all[off + 2]).is_empty()
    {
        return false;
    }
    let line = line.trim();
    let Some(first) = line.chars().next() else {
        return false;
    };
    if !first.is_alphabetic() || !first.is_uppercase() {
        return false;
    }
    let Some(last) = line.chars().last() else {
        return false;
    };
    if !last.is_alphabetic() && !last.is_numeric() {
        return false;
    }
    if line.contains(|c| ";:!?+*/=[]{}_^°&§~%#@<\">\\".contains(c)) {
        return false;
    }
    let mut rest = line;
    while let Some(i) = rest.find('\'') {
        rest = &rest[i + 1..];
        if rest != "s" && !rest.starts_with("s ") {
            return false;
        }
    }
    let mut rest = line;
    while let Some(i) = rest.find('.') {
        rest = &rest[i + 1..];
        if rest.is_empty() || rest.starts_with(' ') {
            return false;
        }
    }
    true
}

/// `[text]: scheme://...`, a link definition line.
fn is_link_def(line: &str) -> bool {
    let Some(rest) = line.strip_prefix('[') else {
        return false;
    };
    let Some(i) = rest.find("]:") else {
        return false;
    };
    let after = &rest[i + 2..];
    if after.len() < 2 || !after.starts_with([' ', '\t']) {
        return false;
    }
    let url = after.trim();
    match url.find("://") {
        Some(j) => {
            let scheme = &url[..j];
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        }
        None => false,
    }
}

fn link_def(line: &str) -> String {
    let rest = &line[1..];
    let i = rest.find("]:").unwrap_or(0);
    format!("[{}]: {}", &rest[..i], rest[i + 2..].trim())
}

#[cfg(test)]
mod tests {
    use super::doc_comment;

    #[test]
    fn lists_code_and_headings_take_gofmt_form() {
        let text = "Properties:\n\n- one\n  more\n- two\n\nCode:\n```text\nif (x) {\n\ty()\n}\n```\n\nNotes\n\nText.";
        assert_eq!(
            doc_comment(text),
            // What gofmt 1.27 makes of it.
            "// Properties:\n//\n//   - one\n//     more\n//   - two\n//\n// Code:\n// ```text\n\
             //\n//\tif (x) {\n//\t\ty()\n//\t}\n//\n// ```\n//\n// # Notes\n//\n// Text.\n"
        );
    }
}
