//! A YAML tree for editing, not for values: every mapping keeps all its entries, duplicates included
//! (Jinja if/else branches produce them), aliases stay aliases, and every node knows its line.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;

/// A node with its position (1-based line and column).
#[derive(Debug, Clone)]
pub struct Node {
    /// What it is.
    pub kind: Kind,
    /// Line of its start.
    pub line: usize,
    /// Column of its start.
    pub col: usize,
}

/// Node kinds.
#[derive(Debug, Clone)]
pub enum Kind {
    /// A scalar as written; `quoted` when it was in quotes or a block scalar.
    Scalar { text: String, quoted: bool },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, every entry in order.
    Map(Vec<(Node, Node)>),
    /// `*name`: refers to the anchored node with this id.
    Alias(usize),
}

/// A parsed document and its anchored nodes.
pub struct Outline {
    /// The document's root, if it has one.
    pub root: Option<Node>,
    /// Anchor id -> the node it names.
    pub anchors: HashMap<usize, Node>,
}

impl Node {
    /// The scalar text, if this is a scalar.
    pub fn text(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// Entries whose key is `key`.
    pub fn entries<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a (Node, Node)> + 'a {
        let entries: &[(Node, Node)] = match &self.kind {
            Kind::Map(e) => e,
            _ => &[],
        };
        entries.iter().filter(move |(k, _)| k.text() == Some(key))
    }
}

impl Outline {
    /// Follows an alias to its node.
    pub fn resolve<'a>(&'a self, node: &'a Node) -> &'a Node {
        match node.kind {
            Kind::Alias(id) => self.anchors.get(&id).unwrap_or(node),
            _ => node,
        }
    }
}

/// Parses `text`; a syntax error comes back with its line, column and message.
pub fn parse(text: &str) -> Result<Outline, (usize, usize, String)> {
    drover_yaml::printable(text).map_err(|e| {
        let mark = e.mark();
        let message = match e {
            drover_yaml::YamlError::Syntax { message, .. }
            | drover_yaml::YamlError::Unsupported { message, .. } => message,
        };
        (mark.line, mark.col, message)
    })?;
    let mut parser = Parser::new_from_str(text);
    let mut anchors = HashMap::new();
    let mut root = None;
    loop {
        let (event, mark) = next(&mut parser)?;
        match event {
            Event::StreamEnd => break,
            Event::DocumentStart => {
                let (ev, m) = next(&mut parser)?;
                if root.is_none() {
                    root = Some(node(&mut parser, ev, m, &mut anchors, 0)?);
                } else {
                    node(&mut parser, ev, m, &mut anchors, 0)?;
                }
                let _ = mark;
            }
            _ => {}
        }
    }
    Ok(Outline { root, anchors })
}

type Pos = (usize, usize);

fn next<T: Iterator<Item = char>>(
    parser: &mut Parser<T>,
) -> Result<(Event, Pos), (usize, usize, String)> {
    parser
        .next_token()
        .map(|(e, m)| (e, (m.line(), m.col() + 1)))
        .map_err(|e| {
            (
                e.marker().line(),
                e.marker().col() + 1,
                e.info().to_string(),
            )
        })
}

fn node<T: Iterator<Item = char>>(
    parser: &mut Parser<T>,
    event: Event,
    (line, col): Pos,
    anchors: &mut HashMap<usize, Node>,
    depth: usize,
) -> Result<Node, (usize, usize, String)> {
    if depth > drover_yaml::MAX_DEPTH {
        return Err((
            line,
            col,
            format!(
                "collections nest more than {} levels deep",
                drover_yaml::MAX_DEPTH
            ),
        ));
    }
    let (kind, anchor) = match event {
        Event::Scalar(text, style, anchor, _) => (
            Kind::Scalar {
                text,
                quoted: style != TScalarStyle::Plain,
            },
            anchor,
        ),
        Event::Alias(id) => (Kind::Alias(id), 0),
        Event::SequenceStart(anchor, _) => {
            let mut items = Vec::new();
            loop {
                match next(parser)? {
                    (Event::SequenceEnd, _) => break,
                    (ev, m) => items.push(node(parser, ev, m, anchors, depth + 1)?),
                }
            }
            (Kind::Seq(items), anchor)
        }
        Event::MappingStart(anchor, _) => {
            let mut entries = Vec::new();
            loop {
                match next(parser)? {
                    (Event::MappingEnd, _) => break,
                    (ev, m) => {
                        let key = node(parser, ev, m, anchors, depth + 1)?;
                        let (ev, m) = next(parser)?;
                        let value = node(parser, ev, m, anchors, depth + 1)?;
                        entries.push((key, value));
                    }
                }
            }
            (Kind::Map(entries), anchor)
        }
        other => return Err((line, col, format!("unexpected YAML event {other:?}"))),
    };
    let n = Node { kind, line, col };
    if anchor > 0 {
        anchors.insert(anchor, n.clone());
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_bounded_before_the_stack_is() {
        let block: String = (0..5000)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        let (line, _, message) = parse(&block).err().unwrap();
        assert_eq!(line, 201);
        assert!(message.contains("nest more than 200 levels"), "{message}");
    }
}
