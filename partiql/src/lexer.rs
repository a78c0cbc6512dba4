//! The tokens of a PartiQL statement: identifiers (bare, case-insensitive for keywords, or
//! `"double quoted"`), `'string'` literals, numbers, `?` and punctuation.

use crate::error::PartiqlError;

/// One token.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Token {
    /// A bare identifier or keyword, as written.
    Ident(String),
    /// A `"quoted"` identifier, unescaped.
    Quoted(String),
    /// A `'string'`, unescaped.
    Str(String),
    /// A number, as written (no sign).
    Num(String),
    /// Punctuation and operators: `( ) [ ] { } , . : * = <> != < <= > >= + - ? << >>`.
    Sym(&'static str),
}

impl Token {
    /// The token as it reads in an error message.
    pub(crate) fn describe(&self) -> String {
        match self {
            Token::Ident(s) => s.clone(),
            Token::Quoted(s) => format!("\"{s}\""),
            Token::Str(s) => format!("'{s}'"),
            Token::Num(s) => s.clone(),
            Token::Sym(s) => (*s).to_string(),
        }
    }
}

const SYMBOLS: [&str; 21] = [
    "<<", ">>", "<>", "!=", "<=", ">=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "*", "=", "<",
    ">", "+", "?",
];

fn quoted(chars: &[char], i: &mut usize, quote: char) -> Result<String, PartiqlError> {
    let mut out = String::new();
    *i += 1;
    loop {
        match chars.get(*i) {
            None => {
                return Err(PartiqlError::Syntax(format!(
                    "Unterminated {} literal",
                    if quote == '\'' {
                        "string"
                    } else {
                        "quoted identifier"
                    }
                )))
            }
            Some(&c) if c == quote => {
                if chars.get(*i + 1) == Some(&quote) {
                    out.push(quote);
                    *i += 2;
                } else {
                    *i += 1;
                    return Ok(out);
                }
            }
            Some(&c) => {
                out.push(c);
                *i += 1;
            }
        }
    }
}

/// Splits a statement into tokens.
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, PartiqlError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && chars.get(i + 1) == Some(&'-') {
            // a line comment
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '\'' {
            out.push(Token::Str(quoted(&chars, &mut i, '\'')?));
        } else if c == '"' {
            out.push(Token::Quoted(quoted(&chars, &mut i, '"')?));
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    i = j;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            out.push(Token::Num(chars[start..i].iter().collect()));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Token::Ident(chars[start..i].iter().collect()));
        } else if c == '-' {
            out.push(Token::Sym("-"));
            i += 1;
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let Some(sym) = SYMBOLS.iter().find(|s| rest.starts_with(**s)) else {
                return Err(PartiqlError::Syntax(format!("Unexpected character: {c}")));
            };
            out.push(Token::Sym(sym));
            i += sym.len();
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_a_statement() {
        let t =
            tokenize(r#"SELECT "a""b" FROM t WHERE x <= -1.5e3 AND y = 'it''s' -- note"#).unwrap();
        assert_eq!(
            t,
            vec![
                Token::Ident("SELECT".into()),
                Token::Quoted("a\"b".into()),
                Token::Ident("FROM".into()),
                Token::Ident("t".into()),
                Token::Ident("WHERE".into()),
                Token::Ident("x".into()),
                Token::Sym("<="),
                Token::Sym("-"),
                Token::Num("1.5e3".into()),
                Token::Ident("AND".into()),
                Token::Ident("y".into()),
                Token::Sym("="),
                Token::Str("it's".into()),
            ]
        );
    }

    #[test]
    fn bags_and_parameters() {
        let t = tokenize("<<?, 1>>").unwrap();
        assert_eq!(
            t,
            vec![
                Token::Sym("<<"),
                Token::Sym("?"),
                Token::Sym(","),
                Token::Num("1".into()),
                Token::Sym(">>"),
            ]
        );
    }

    #[test]
    fn unterminated_string_is_an_error() {
        assert!(tokenize("'abc").is_err());
        assert!(tokenize("a ; b").is_err());
    }
}
