//! Builds positioned nodes from yaml-rust2's event stream, resolving anchors, aliases, tags and merge
//! keys the way PyYAML does.

use drover_vault::VaultError;
use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::scalar::resolve_plain;
use crate::{Mark, Node, Value};

/// Why a YAML text could not be read. Positions are 1-based.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum YamlError {
    /// The text is not well-formed YAML.
    #[error("{mark}: invalid YAML: {message}")]
    Syntax {
        /// Where the parser stopped.
        mark: Mark,
        /// The parser's explanation.
        message: String,
    },
    /// The text is YAML, but uses something Ansible's dialect does not allow here.
    #[error("{mark}: {message}")]
    Unsupported {
        /// Where the construct starts.
        mark: Mark,
        /// What is wrong and what was expected.
        message: String,
    },
}

impl YamlError {
    /// Where the problem is.
    pub fn mark(&self) -> Mark {
        match self {
            YamlError::Syntax { mark, .. } | YamlError::Unsupported { mark, .. } => *mark,
        }
    }
}

/// Parses the one document of `text`; `None` when the text holds no document (empty or comments
/// only). A second document is refused, as Ansible's loader (PyYAML's `load`) refuses it: hosts or
/// tasks after a stray `---` must not be silently dropped.
pub fn parse(text: &str) -> Result<Option<Node>, YamlError> {
    let mut docs = documents(text)?.into_iter();
    let first = docs.next().map(|(_, node)| node);
    match docs.next() {
        Some((mark, _)) => Err(YamlError::Unsupported {
            mark,
            message: "expected a single document, but a second one starts here".into(),
        }),
        None => Ok(first),
    }
}

/// Parses every document of `text`.
pub fn parse_all(text: &str) -> Result<Vec<Node>, YamlError> {
    Ok(documents(text)?.into_iter().map(|(_, node)| node).collect())
}

/// Every document of `text`, each with the position where it starts.
fn documents(text: &str) -> Result<Vec<(Mark, Node)>, YamlError> {
    printable(text)?;
    let mut loader = Loader {
        parser: Parser::new_from_str(text),
        anchors: HashMap::new(),
        size: 0,
        depth: 0,
    };
    loader.documents()
}

/// Refuses characters YAML does not allow (control characters other than tab and line breaks).
/// yaml-rust2 would take a NUL for the end of the text and silently ignore the rest, so every reader
/// of YAML calls this first.
pub fn printable(text: &str) -> Result<(), YamlError> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r' | '\u{85}')
            || !(c.is_control() || ('\u{fffe}'..='\u{ffff}').contains(&c))
    };
    for (i, line) in text.split('\n').enumerate() {
        if let Some((col, c)) = line.chars().enumerate().find(|&(_, c)| !allowed(c)) {
            return Err(YamlError::Syntax {
                mark: Mark {
                    line: i + 1,
                    col: col + 1,
                },
                message: format!(
                    "control character U+{:04X} is not allowed in YAML",
                    u32::from(c)
                ),
            });
        }
    }
    Ok(())
}

/// How large the nodes of one text may grow, counting every copy an alias makes: a node is one
/// unit and every 64 bytes of text another. A few hundred bytes of nested aliases (the "billion
/// laughs") would otherwise expand to gigabytes; real files stay far below (a 5,000-host inventory
/// is about 30,000 units).
pub const MAX_SIZE: usize = 2_000_000;

/// How deeply collections may nest. Readers of the tree recurse, and real files nest a few levels.
pub const MAX_DEPTH: usize = 200;

struct Loader<'a> {
    parser: Parser<std::str::Chars<'a>>,
    /// Anchored nodes with their size, for aliases.
    anchors: HashMap<usize, (Node, usize)>,
    /// Units built so far (see [`MAX_SIZE`]).
    size: usize,
    /// Collections open around the current node.
    depth: usize,
}

/// The size of `node` in the units of [`MAX_SIZE`].
fn size_of(node: &Node) -> usize {
    1 + match &node.value {
        Value::Str(s) => s.len() / 64,
        Value::Seq(items) => items.iter().map(size_of).sum(),
        Value::Map(entries) => entries.iter().map(|(k, v)| size_of(k) + size_of(v)).sum(),
        _ => 0,
    }
}

fn mark_of(m: Marker) -> Mark {
    // yaml-rust2 counts lines from 1 and columns from 0.
    Mark {
        line: m.line(),
        col: m.col() + 1,
    }
}

impl Loader<'_> {
    fn next(&mut self) -> Result<(Event, Mark), YamlError> {
        self.parser
            .next_token()
            .map(|(event, marker)| (event, mark_of(marker)))
            .map_err(|e| YamlError::Syntax {
                mark: mark_of(*e.marker()),
                message: e.info().to_string(),
            })
    }

    fn documents(&mut self) -> Result<Vec<(Mark, Node)>, YamlError> {
        let mut docs = Vec::new();
        loop {
            match self.next()? {
                (Event::StreamEnd, _) => return Ok(docs),
                (Event::DocumentStart, start) => {
                    let (event, mark) = self.next()?;
                    docs.push((start, self.node(event, mark)?));
                    // DocumentEnd
                    self.next()?;
                    self.anchors.clear();
                }
                _ => {}
            }
        }
    }

    /// Counts `units` against [`MAX_SIZE`].
    fn grow(&mut self, units: usize, mark: Mark) -> Result<(), YamlError> {
        self.size = self.size.saturating_add(units);
        if self.size > MAX_SIZE {
            return Err(YamlError::Unsupported {
                mark,
                message: format!(
                    "the document grows past {MAX_SIZE} nodes here (aliases expanding into each other?); drover refuses it rather than run out of memory"
                ),
            });
        }
        Ok(())
    }

    /// Enters a collection, refusing nesting past [`MAX_DEPTH`].
    fn enter(&mut self, mark: Mark) -> Result<(), YamlError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(YamlError::Unsupported {
                mark,
                message: format!("collections nest more than {MAX_DEPTH} levels deep"),
            });
        }
        Ok(())
    }

    fn node(&mut self, event: Event, mark: Mark) -> Result<Node, YamlError> {
        match event {
            Event::Scalar(ref text, ..) => {
                self.grow(1 + text.len() / 64, mark)?;
                self.leaf(event, mark)
            }
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                self.grow(1, mark)?;
                self.enter(mark)?;
                let node = self.collection(event, mark);
                self.depth -= 1;
                node
            }
            Event::Alias(id) => {
                let (node, size) =
                    self.anchors
                        .get(&id)
                        .cloned()
                        .ok_or_else(|| YamlError::Unsupported {
                            mark,
                            message: "alias refers to an anchor that is not defined before it"
                                .into(),
                        })?;
                self.grow(size, mark)?;
                Ok(node)
            }
            other => self.leaf(other, mark),
        }
    }

    fn leaf(&mut self, event: Event, mark: Mark) -> Result<Node, YamlError> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let value = scalar(text, style, tag.as_ref(), mark)?;
                Ok(self.anchored(anchor, Node { value, mark }))
            }
            other => Err(YamlError::Unsupported {
                mark,
                message: format!("unexpected YAML event {other:?}"),
            }),
        }
    }

    fn collection(&mut self, event: Event, mark: Mark) -> Result<Node, YamlError> {
        match event {
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                loop {
                    match self.next()? {
                        (Event::SequenceEnd, _) => break,
                        (event, m) => items.push(self.node(event, m)?),
                    }
                }
                let value = Value::Seq(items);
                Ok(self.anchored(anchor, Node { value, mark }))
            }
            Event::MappingStart(anchor, _) => {
                let (entries, first_key) = self.mapping_entries()?;
                // A block mapping is known at its first `:`, where the parser marks it; it starts
                // at its first key, where an error about it (a task, a play) should point.
                let mark = match first_key {
                    Some(k) if (k.line, k.col) < (mark.line, mark.col) => k,
                    _ => mark,
                };
                Ok(self.anchored(
                    anchor,
                    Node {
                        value: Value::Map(entries),
                        mark,
                    },
                ))
            }
            other => Err(YamlError::Unsupported {
                mark,
                message: format!("unexpected YAML event {other:?}"),
            }),
        }
    }

    /// Reads a mapping's entries, and where its first key stands. Explicit keys win over merged
    /// ones (`<<`), wherever they stand.
    fn mapping_entries(&mut self) -> Result<(Entries, Option<Mark>), YamlError> {
        let mut entries: Vec<(Node, Node)> = Vec::new();
        let mut merged: Vec<(Node, Node)> = Vec::new();
        let mut first_key = None;
        loop {
            let (event, mark) = self.next()?;
            if matches!(event, Event::MappingEnd) {
                break;
            }
            let is_merge =
                matches!(&event, Event::Scalar(t, TScalarStyle::Plain, _, None) if t == "<<");
            let key = self.node(event, mark)?;
            first_key.get_or_insert(key.mark);
            let (event, vmark) = self.next()?;
            let value = self.node(event, vmark)?;
            if is_merge {
                merged.extend(merge_sources(value)?);
            } else {
                insert(&mut entries, key, value);
            }
        }
        for (key, value) in merged {
            if !entries.iter().any(|(k, _)| k.value == key.value) {
                entries.push((key, value));
            }
        }
        Ok((entries, first_key))
    }

    fn anchored(&mut self, anchor: usize, node: Node) -> Node {
        if anchor > 0 {
            self.anchors.insert(anchor, (node.clone(), size_of(&node)));
        }
        node
    }
}

/// Replaces an existing key's value in place (PyYAML keeps the last), or appends.
/// A mapping's entries, in order.
type Entries = Vec<(Node, Node)>;

fn insert(entries: &mut Vec<(Node, Node)>, key: Node, value: Node) {
    match entries.iter_mut().find(|(k, _)| k.value == key.value) {
        Some(slot) => *slot = (key, value),
        None => entries.push((key, value)),
    }
}

/// The entries a `<<` value contributes: one mapping, or a list of them where earlier ones win.
fn merge_sources(value: Node) -> Result<Vec<(Node, Node)>, YamlError> {
    let not_a_map = |mark| YamlError::Unsupported {
        mark,
        message: "a merge key `<<` expects a mapping or a list of mappings".into(),
    };
    match value.value {
        Value::Map(entries) => Ok(entries),
        Value::Seq(items) => {
            let mut out: Vec<(Node, Node)> = Vec::new();
            for item in items {
                let mark = item.mark;
                let Value::Map(entries) = item.value else {
                    return Err(not_a_map(mark));
                };
                for (k, v) in entries {
                    if !out.iter().any(|(existing, _)| existing.value == k.value) {
                        out.push((k, v));
                    }
                }
            }
            Ok(out)
        }
        _ => Err(not_a_map(value.mark)),
    }
}

fn scalar(
    text: String,
    style: TScalarStyle,
    tag: Option<&Tag>,
    mark: Mark,
) -> Result<Value, YamlError> {
    match tag.map(|t| t.suffix.as_str()) {
        None if style == TScalarStyle::Plain => Ok(resolve_plain(&text)),
        None | Some("str") => Ok(Value::Str(text)),
        Some("unsafe") => unsafe_text(text, mark),
        Some("int" | "float" | "bool" | "null") => Ok(resolve_plain(&text)),
        // Decrypted with the run's vault passwords; the plaintext is a secret from here on.
        Some("vault") => match drover_vault::decrypt(&text) {
            Ok(plain) => Ok(Value::Str(plain)),
            // As in Ansible, a value no password opens is an error only where it is used.
            Err(e @ (VaultError::NoSecret { .. } | VaultError::WrongPassword { .. })) => {
                Ok(Value::Str(locked_vault(&e, mark)))
            }
            Err(e) => Err(YamlError::Unsupported {
                mark,
                message: format!("this `!vault` value: {e}"),
            }),
        },
        Some(other) => Err(YamlError::Unsupported {
            mark,
            message: format!("unknown YAML tag `!{other}`"),
        }),
    }
}

/// The template function a `!vault` value no password opens stands for: rendering it fails with
/// why. Connection settings, which are not rendered, are checked for it.
pub const LOCKED_VAULT: &str = "__drover_locked_vault";

/// A `!vault` value no given password opens, as a template that fails where it is used (and
/// nowhere else: Ansible decrypts a value only when something reads it).
fn locked_vault(e: &VaultError, mark: Mark) -> String {
    let why = format!(
        "the `!vault` value at line {}, column {}: {e}",
        mark.line, mark.col
    );
    format!(
        "{{{{ {LOCKED_VAULT}('{}') }}}}",
        why.replace(['\\', '\''], "")
    )
}

/// Ansible's `!unsafe`: the text reaches the host as written, never templated. drover's values are
/// plain strings, so template syntax in one is wrapped in a raw block, which renders to the text.
fn unsafe_text(text: String, mark: Mark) -> Result<Value, YamlError> {
    if !["{{", "{%", "{#"].iter().any(|m| text.contains(m)) {
        return Ok(Value::Str(text));
    }
    if text.contains("endraw") {
        return Err(YamlError::Unsupported {
            mark,
            message: "a `!unsafe` value with template syntax cannot contain `endraw`".into(),
        });
    }
    Ok(Value::Str(format!("{{% raw %}}{text}{{% endraw %}}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> serde_json::Value {
        parse(text).unwrap().unwrap().to_json()
    }

    #[test]
    fn a_vault_value_no_password_opens_fails_only_where_it_is_used() {
        // No keyring is installed in this test: nothing opens it.
        let text = include_str!("../../vault/tests/fixtures/inline.yml");
        let value = json(text);
        let locked = value["api_token"].as_str().unwrap();
        assert!(
            locked.starts_with(&format!("{{{{ {LOCKED_VAULT}('")),
            "{locked}"
        );
        assert!(
            locked.contains("the `!vault` value at line 2, column 11: it is vault-encrypted"),
            "{locked}"
        );
        // A value that is not Ansible Vault text at all is still refused where it is written.
        let bad = parse("x: !vault not-a-vault\n").unwrap_err().to_string();
        assert!(bad.contains("not an Ansible Vault text"), "{bad}");
    }

    #[test]
    fn unsafe_text_is_kept_from_templating() {
        assert_eq!(
            json("a: !unsafe \"docker ps --format '{{.Names}}'\"\nb: !unsafe plain\n"),
            serde_json::json!({
                "a": "{% raw %}docker ps --format '{{.Names}}'{% endraw %}",
                "b": "plain"
            })
        );
        assert!(parse("a: !unsafe \"{% endraw %}\"\n").is_err());
    }

    #[test]
    fn a_nul_is_refused_where_it_is_not_taken_for_the_end_of_the_text() {
        let err = parse("a: 1\nb: x\0\0 [unterminated\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "2:5: invalid YAML: control character U+0000 is not allowed in YAML"
        );
        assert!(parse("a: \"tab\there\"\r\nb: \u{a0}caf\u{e9}\n").is_ok());
    }

    #[test]
    fn quoted_scalars_stay_strings() {
        let v = json("a: yes\nb: 'yes'\nc: \"0755\"\nd: 0755\n");
        assert_eq!(
            v,
            serde_json::json!({"a": true, "b": "yes", "c": "0755", "d": 493})
        );
    }

    /// As PyYAML reads them (checked with python3's yaml.safe_load): continuation lines of a
    /// quoted scalar at any indentation, folded into single spaces.
    #[test]
    fn quoted_scalars_continue_at_any_indentation_as_pyyaml_reads_them() {
        let v = json("a:\n  b: \"x [\n    y,\n  ] z\"\n  c: 'p\nq'\n  d: 1\n");
        assert_eq!(
            v,
            serde_json::json!({"a": {"b": "x [ y, ] z", "c": "p q", "d": 1}})
        );
    }

    #[test]
    fn merge_keys_fill_in_but_never_override() {
        let v = json("base: &b {x: 1, y: 2}\nthing:\n  y: 3\n  <<: *b\n");
        assert_eq!(v["thing"], serde_json::json!({"y": 3, "x": 1}));
    }

    #[test]
    fn marks_are_one_based() {
        let node = parse("top:\n  inner: 1\n").unwrap().unwrap();
        let inner = node.get("top").unwrap().get("inner").unwrap();
        assert_eq!(inner.mark, Mark { line: 2, col: 10 });
    }

    #[test]
    fn syntax_errors_carry_a_position() {
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(matches!(err, YamlError::Syntax { .. }), "{err}");
        assert!(err.mark().line >= 2, "{err}");
    }

    #[test]
    fn aliases_cannot_expand_without_bound() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let err = parse(&text).unwrap_err();
        assert!(
            err.to_string().contains("grows past 2000000 nodes"),
            "{err}"
        );
        // Ordinary reuse is fine.
        assert!(parse("d: &d {x: 1}\na: *d\nb: *d\n").is_ok());
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        // yaml-rust2 stops flow collections itself (at 256); drover's own bound catches the rest.
        assert!(parse(&deep).is_err());
        let block: String = (0..250)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        let err = parse(&block).unwrap_err();
        assert!(
            err.to_string().contains("nest more than 200 levels"),
            "{err}"
        );
        let ok = format!("{}{}", "[".repeat(150), "]".repeat(150));
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn a_second_document_is_refused() {
        let err = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "2:1: expected a single document, but a second one starts here"
        );
        assert!(parse("---\na: 1\n...\n").unwrap().is_some());
    }

    #[test]
    fn empty_text_has_no_document() {
        assert_eq!(parse("# only a comment\n").unwrap(), None);
    }
}
