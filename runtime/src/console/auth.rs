//! Who may use the console: one-time login links, sessions and their CSRF tokens.
//!
//! A browser gets a session in one of two ways, both ending in an `HttpOnly`,
//! `SameSite=Strict` cookie ([`SESSION_COOKIE`], path `/console`):
//! - the one-time link `tarn serve` prints at start (`/console/login?token=...`, like
//!   Jupyter's): its token works once, within [`LOGIN_LINK_TTL`], and is never the admin token;
//! - the login page, where a person pastes the admin token (`<data-dir>/admin-token`).
//!
//! Every session has its own CSRF token, which the page reads from `GET /console/api/session`
//! (a same-origin JSON answer no other site can read) and sends back in the [`CSRF_HEADER`]
//! header of every state-changing request; the server compares it in constant time with the
//! session's. Cookies, login tokens and CSRF tokens are kept only as SHA-256 digests or in
//! memory, are compared in constant time, and are never logged.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "tarn_console";
/// The header carrying the session's CSRF token on state-changing requests.
pub const CSRF_HEADER: &str = "x-tarn-csrf";
/// How long a one-time login link stays valid if unused.
pub const LOGIN_LINK_TTL: Duration = Duration::from_secs(60 * 60);
/// A session unused this long is forgotten.
pub const SESSION_IDLE: Duration = Duration::from_secs(12 * 60 * 60);
/// Most sessions kept at once; a new one beyond it evicts the least recently used.
const MAX_SESSIONS: usize = 256;
/// Most unused one-time links kept at once; a new one beyond it evicts the oldest.
const MAX_LOGIN_LINKS: usize = 64;

type Digest32 = [u8; 32];

fn digest(secret: &str) -> Digest32 {
    Sha256::digest(secret.as_bytes()).into()
}

/// A fresh random secret: 64 hex digits (244 random bits from two v4 uuids, as the admin token).
pub fn new_secret() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// One signed-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    /// The token state-changing requests must carry in [`CSRF_HEADER`].
    pub csrf: String,
    last_seen: Instant,
}

/// The console's login links and sessions (in memory: a restart signs everyone out).
#[derive(Debug, Default)]
pub struct Auth {
    sessions: Mutex<HashMap<Digest32, Session>>,
    links: Mutex<Vec<(Digest32, Instant)>>,
}

impl Auth {
    /// No sessions and no links yet.
    pub fn new() -> Self {
        Auth::default()
    }

    /// Mints a one-time login token, valid once within [`LOGIN_LINK_TTL`].
    pub fn new_login_token(&self) -> String {
        let token = new_secret();
        let mut links = self.links.lock();
        let now = Instant::now();
        links.retain(|(_, expires)| *expires > now);
        if links.len() >= MAX_LOGIN_LINKS {
            links.remove(0);
        }
        links.push((digest(&token), now + LOGIN_LINK_TTL));
        token
    }

    /// Uses up one-time login token `token`: true if it was valid (it is not any more).
    pub fn redeem_login_token(&self, token: &str) -> bool {
        let presented = digest(token);
        let now = Instant::now();
        let mut links = self.links.lock();
        links.retain(|(_, expires)| *expires > now);
        // Look at every entry, so the time taken does not say which one matched.
        let mut found = None;
        for (i, (d, _)) in links.iter().enumerate() {
            if bool::from(d.ct_eq(&presented)) {
                found = Some(i);
            }
        }
        match found {
            Some(i) => {
                links.remove(i);
                true
            }
            None => false,
        }
    }

    /// Starts a session: returns the cookie value (the browser's secret) and the session.
    pub fn start_session(&self) -> (String, Session) {
        let id = new_secret();
        let session = Session {
            csrf: new_secret(),
            last_seen: Instant::now(),
        };
        let mut sessions = self.sessions.lock();
        let now = Instant::now();
        sessions.retain(|_, s| now.duration_since(s.last_seen) < SESSION_IDLE);
        if sessions.len() >= MAX_SESSIONS {
            if let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, s)| s.last_seen)
                .map(|(k, _)| *k)
            {
                sessions.remove(&oldest);
            }
        }
        sessions.insert(digest(&id), session.clone());
        (id, session)
    }

    /// The session whose cookie value is `id`, if it is live (and marks it used).
    pub fn session(&self, id: &str) -> Option<Session> {
        if id.is_empty() {
            return None;
        }
        let mut sessions = self.sessions.lock();
        let key = digest(id);
        let now = Instant::now();
        let s = sessions.get_mut(&key)?;
        if now.duration_since(s.last_seen) >= SESSION_IDLE {
            sessions.remove(&key);
            return None;
        }
        s.last_seen = now;
        Some(s.clone())
    }

    /// Ends the session whose cookie value is `id`.
    pub fn end_session(&self, id: &str) {
        self.sessions.lock().remove(&digest(id));
    }
}

/// Whether `presented` equals `expected`, in constant time (over digests, so not even the
/// length leaks); an empty `expected` never matches.
pub fn secret_matches(presented: &str, expected: &str) -> bool {
    !expected.is_empty() && bool::from(digest(presented).ct_eq(&digest(expected)))
}

/// The value of cookie `name` in a `Cookie` header, if present.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k.trim() == name).then(|| v.trim())
    })
}

/// The `Set-Cookie` value that hands `id` to the browser.
pub fn session_cookie(id: &str) -> String {
    format!(
        "{SESSION_COOKIE}={id}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={}",
        SESSION_IDLE.as_secs()
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_token_works_once() {
        let auth = Auth::new();
        let t = auth.new_login_token();
        assert_eq!(t.len(), 64);
        assert!(!auth.redeem_login_token("not-it"));
        assert!(!auth.redeem_login_token(""));
        assert!(auth.redeem_login_token(&t));
        assert!(!auth.redeem_login_token(&t), "a second use");
        let a = auth.new_login_token();
        let b = auth.new_login_token();
        assert_ne!(a, b);
        assert!(auth.redeem_login_token(&b));
        assert!(auth.redeem_login_token(&a));
    }

    #[test]
    fn an_expired_login_token_fails() {
        let auth = Auth::new();
        let t = auth.new_login_token();
        auth.links.lock()[0].1 = Instant::now() - Duration::from_secs(1);
        assert!(!auth.redeem_login_token(&t));
    }

    #[test]
    fn sessions_are_found_by_their_cookie_and_end() {
        let auth = Auth::new();
        let (id, s) = auth.start_session();
        assert_eq!(auth.session(&id).unwrap().csrf, s.csrf);
        assert!(auth.session("other").is_none());
        assert!(auth.session("").is_none());
        let (id2, s2) = auth.start_session();
        assert_ne!(s.csrf, s2.csrf);
        auth.end_session(&id);
        assert!(auth.session(&id).is_none());
        assert!(auth.session(&id2).is_some());
    }

    #[test]
    fn idle_sessions_expire_and_the_oldest_is_evicted() {
        let auth = Auth::new();
        let (id, _) = auth.start_session();
        for s in auth.sessions.lock().values_mut() {
            s.last_seen = Instant::now() - SESSION_IDLE;
        }
        assert!(auth.session(&id).is_none());
        let first = auth.start_session().0;
        for s in auth.sessions.lock().values_mut() {
            s.last_seen = Instant::now() - Duration::from_secs(60);
        }
        for _ in 0..MAX_SESSIONS {
            auth.start_session();
        }
        assert!(auth.session(&first).is_none(), "the oldest went first");
        assert_eq!(auth.sessions.lock().len(), MAX_SESSIONS);
    }

    #[test]
    fn cookies_and_secrets() {
        let h = "a=1; tarn_console=abc ; b=2";
        assert_eq!(cookie(h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(h, "b"), Some("2"));
        assert_eq!(cookie(h, "c"), None);
        assert_eq!(cookie("tarn_consolex=1", SESSION_COOKIE), None);
        assert!(secret_matches("x", "x"));
        assert!(!secret_matches("x", "y"));
        assert!(!secret_matches("", ""));
        let c = session_cookie("abc");
        assert!(
            c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Path=/console")
        );
        assert!(clear_cookie().contains("Max-Age=0"));
    }
}
