//! The lexer: expression text to tokens with byte spans.
//!
//! Every expression kind shares these tokens. Keywords (`AND`, `SET`, `BETWEEN`...) are lexed as
//! identifiers and recognised by the parser, case-insensitively, because which words are keywords
//! depends on the expression kind. Spans let syntax errors quote the text "near" the bad token
//! the way DynamoDB does. The lexer never fails: a character that starts no token becomes an
//! [`Tok::Invalid`] token, which the parser reports as a syntax error at its position.

use std::ops::Range;

/// A token's kind and text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    /// A bare name or keyword: `[A-Za-z_][A-Za-z0-9_]*`.
    Ident(String),
    /// `#name`: an ExpressionAttributeNames placeholder (with the `#`).
    Name(String),
    /// `:value`: an ExpressionAttributeValues placeholder (with the `:`).
    Value(String),
    /// Decimal digits (list indexes).
    Int(String),
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `,`
    Comma,
    /// `.`
    Dot,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// A character that begins no token.
    Invalid(char),
    /// End of input.
    Eof,
}

/// A token and where it is in the source (byte offsets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// What the token is.
    pub tok: Tok,
    /// Its byte range in the expression.
    pub span: Range<usize>,
}

impl Token {
    /// The token as DynamoDB quotes it in syntax errors.
    pub fn text<'a>(&self, src: &'a str) -> &'a str {
        if self.tok == Tok::Eof {
            "<EOF>"
        } else {
            src.get(self.span.clone()).unwrap_or("")
        }
    }

    /// Whether this is the identifier `kw`, compared case-insensitively.
    pub fn is_keyword(&self, kw: &str) -> bool {
        matches!(&self.tok, Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Splits `src` into tokens, ending with one [`Tok::Eof`].
pub fn tokenize(src: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = src.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let single = |tok: Tok| Token {
            tok,
            span: start..start + c.len_utf8(),
        };
        let token = match c {
            ' ' | '\t' | '\r' | '\n' => continue,
            '=' => single(Tok::Eq),
            '(' => single(Tok::LParen),
            ')' => single(Tok::RParen),
            '[' => single(Tok::LBracket),
            ']' => single(Tok::RBracket),
            ',' => single(Tok::Comma),
            '.' => single(Tok::Dot),
            '+' => single(Tok::Plus),
            '-' => single(Tok::Minus),
            '<' => match chars.peek() {
                Some((_, '>')) => {
                    chars.next();
                    Token {
                        tok: Tok::Ne,
                        span: start..start + 2,
                    }
                }
                Some((_, '=')) => {
                    chars.next();
                    Token {
                        tok: Tok::Le,
                        span: start..start + 2,
                    }
                }
                _ => single(Tok::Lt),
            },
            '>' => match chars.peek() {
                Some((_, '=')) => {
                    chars.next();
                    Token {
                        tok: Tok::Ge,
                        span: start..start + 2,
                    }
                }
                _ => single(Tok::Gt),
            },
            '#' | ':' | '0'..='9' | 'a'..='z' | 'A'..='Z' | '_' => {
                let mut end = start + 1;
                while let Some(&(i, n)) = chars.peek() {
                    if !is_ident_char(n) {
                        break;
                    }
                    chars.next();
                    end = i + n.len_utf8();
                }
                let text = src[start..end].to_string();
                let tok = match c {
                    '#' if end > start + 1 => Tok::Name(text),
                    ':' if end > start + 1 => Tok::Value(text),
                    '#' | ':' => Tok::Invalid(c),
                    '0'..='9' if text.bytes().all(|b| b.is_ascii_digit()) => Tok::Int(text),
                    // digits followed by letters: not a token DynamoDB accepts
                    '0'..='9' => Tok::Invalid(c),
                    _ => Tok::Ident(text),
                };
                Token {
                    tok,
                    span: start..end,
                }
            }
            other => single(Tok::Invalid(other)),
        };
        out.push(token);
    }
    out.push(Token {
        tok: Tok::Eof,
        span: src.len()..src.len(),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Tok> {
        tokenize(s).into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn lexes_every_token() {
        assert_eq!(
            kinds("a.#b[10] <> :v,<=>=<>()+-=x_1"),
            vec![
                Tok::Ident("a".into()),
                Tok::Dot,
                Tok::Name("#b".into()),
                Tok::LBracket,
                Tok::Int("10".into()),
                Tok::RBracket,
                Tok::Ne,
                Tok::Value(":v".into()),
                Tok::Comma,
                Tok::Le,
                Tok::Ge,
                Tok::Ne,
                Tok::LParen,
                Tok::RParen,
                Tok::Plus,
                Tok::Minus,
                Tok::Eq,
                Tok::Ident("x_1".into()),
                Tok::Eof,
            ]
        );
    }

    #[test]
    fn bad_characters_become_invalid_tokens() {
        assert_eq!(
            kinds("a ! b"),
            vec![
                Tok::Ident("a".into()),
                Tok::Invalid('!'),
                Tok::Ident("b".into()),
                Tok::Eof
            ]
        );
        assert_eq!(
            kinds("# :"),
            vec![Tok::Invalid('#'), Tok::Invalid(':'), Tok::Eof]
        );
        assert_eq!(kinds("é"), vec![Tok::Invalid('é'), Tok::Eof]);
        let t = tokenize("ab é");
        assert_eq!(t[1].span, 3..5);
        assert_eq!(t[1].text("ab é"), "é");
    }

    #[test]
    fn eof_has_its_own_text() {
        let t = tokenize("a");
        assert_eq!(t[1].text("a"), "<EOF>");
        assert!(t[0].is_keyword("A"));
    }
}
