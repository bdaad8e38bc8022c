//! The keystore demo's script (`fixtures/demo/script`): text commands for
//! the composed app's `wcomp:keystore/handler@0.1.0#handle` and the answers
//! they must get. Every runner (wasmtime here, jco in Node) reads it alike:
//!
//! - blank lines and lines starting with `#` (after spaces) are skipped;
//! - `wait SECONDS` (a line without ` => `): let that much time pass
//!   (a decimal number, `1.2`);
//! - any other line is `COMMAND => ANSWER`, split at the first ` => `, both
//!   sides trimmed: `handle(COMMAND)` must return exactly `ANSWER`.

use std::time::Duration;

/// The separator between a command and its expected answer.
pub const ARROW: &str = " => ";

/// One step of a script.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Let this much time pass.
    Wait(Duration),
    /// Send `command`; the answer must be `expect`.
    Send { command: String, expect: String },
}

/// A step and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// 1-based line number in the script.
    pub number: usize,
    /// The line as written, trimmed (for messages).
    pub text: String,
    pub step: Step,
}

/// Reads a script; the error names the first bad line.
pub fn parse(text: &str) -> Result<Vec<Line>, String> {
    let mut lines = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let number = i + 1;
        let src = raw.trim();
        if src.is_empty() || src.starts_with('#') {
            continue;
        }
        let at = |why: String| format!("script:{number}: {why}\n  {src}");
        // Split before trimming, so that `get e => ` expects an empty answer.
        let step = match raw.split_once(ARROW) {
            Some((command, expect)) => Step::Send {
                command: command.trim().to_string(),
                expect: expect.trim().to_string(),
            },
            None => match src.split_whitespace().collect::<Vec<_>>()[..] {
                ["wait", secs] => Step::Wait(seconds(secs).map_err(at)?),
                _ => {
                    return Err(at(format!(
                        "expected `COMMAND{ARROW}ANSWER` or `wait SECONDS`"
                    )));
                }
            },
        };
        lines.push(Line {
            number,
            text: src.to_string(),
            step,
        });
    }
    Ok(lines)
}

/// A non-negative, finite number of seconds.
fn seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("`{text}` is not a number of seconds (like `1.2`)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send(command: &str, expect: &str) -> Step {
        Step::Send {
            command: command.into(),
            expect: expect.into(),
        }
    }

    #[test]
    fn reads_commands_waits_and_skips_comments() {
        let text = "# a comment\n\n  set a 1 =>  ok \nwait 1.2\nget a => error: x => y\n  # indented\nwait 0\n";
        let steps: Vec<(usize, Step)> = parse(text)
            .unwrap()
            .into_iter()
            .map(|l| (l.number, l.step))
            .collect();
        assert_eq!(
            steps,
            [
                (3, send("set a 1", "ok")),
                (4, Step::Wait(Duration::from_millis(1200))),
                // Split at the first arrow only: answers may hold one.
                (5, send("get a", "error: x => y")),
                (7, Step::Wait(Duration::ZERO)),
            ]
        );
        assert_eq!(parse("get e => ").unwrap()[0].step, send("get e", ""));
    }

    #[test]
    fn a_line_with_an_arrow_is_a_command_even_if_it_says_wait() {
        let lines = parse("wait 1 => error: unknown command").unwrap();
        assert_eq!(lines[0].step, send("wait 1", "error: unknown command"));
    }

    #[test]
    fn bad_lines_are_named() {
        for (text, want) in [
            ("set a 1", "script:1: expected `COMMAND => ANSWER`"),
            ("\nwait", "script:2: expected"),
            ("wait -1", "script:1: `-1` is not a number of seconds"),
            ("wait soon", "`soon` is not a number"),
            ("wait inf", "`inf` is not a number"),
            ("wait 1 2", "expected `COMMAND => ANSWER` or `wait SECONDS`"),
            ("get e =>", "expected `COMMAND => ANSWER`"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }
}
