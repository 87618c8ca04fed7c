//! One keep-alive HTTP/1.1 connection for the load test's plain GETs,
//! driven inside the task that uses it.
//!
//! reqwest's pooled client parses the URL of every request, checks a
//! connection out of a shared pool and talks to it through a task of its
//! own: on this 2-core machine that held the load test to half of wrk's
//! rate against a fast page, so it measured itself more than the server.
//! Here a GET is written on a connection the caller owns and the reply read
//! back in the same task (hyper's connection-level client). Forms (login,
//! upload) still go through reqwest, which keeps the cookies.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::{self, Connection as Driver, SendRequest};
use hyper::header::{HeaderValue, COOKIE, HOST, SET_COOKIE};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Where plain GETs go: an `http://` site (https goes through reqwest).
#[derive(Debug, Clone)]
pub struct Target {
    authority: String,
    host: HeaderValue,
}

impl Target {
    /// None for anything but plain `http://HOST[:PORT]`.
    pub fn parse(base: &str) -> Option<Self> {
        let url = url::Url::parse(base).ok()?;
        if url.scheme() != "http" {
            return None;
        }
        let host = url.host_str()?;
        let port = url.port_or_known_default()?;
        let authority = format!("{host}:{port}");
        Some(Self {
            host: HeaderValue::from_str(&authority).ok()?,
            authority,
        })
    }
}

/// What a GET brought back (its body was read and dropped).
pub struct Answer {
    pub status: StatusCode,
    pub instance: Option<String>,
    pub set_cookies: Vec<HeaderValue>,
}

/// Why a GET failed, in the load test's words for errors.
#[derive(Debug)]
pub enum Failure {
    Connect,
    Broken,
}

type Io = TokioIo<TcpStream>;

pub struct Connection {
    sender: SendRequest<Empty<Bytes>>,
    driver: Pin<Box<Driver<Io, Empty<Bytes>>>>,
}

impl Connection {
    pub async fn open(target: &Target) -> Result<Self, Failure> {
        let stream = TcpStream::connect(&target.authority)
            .await
            .map_err(|_| Failure::Connect)?;
        let _ = stream.set_nodelay(true);
        let (sender, driver) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|_| Failure::Connect)?;
        Ok(Self {
            sender,
            driver: Box::pin(driver),
        })
    }

    /// GETs `path`, reads the whole body (as a browser would) and returns
    /// what the load test records. After a failure the connection is dead:
    /// drop it and open another.
    pub async fn get(
        &mut self,
        target: &Target,
        path: &str,
        cookie: Option<HeaderValue>,
    ) -> Result<Answer, Failure> {
        let mut request = Request::get(path).header(HOST, target.host.clone());
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        let request = request.body(Empty::new()).map_err(|_| Failure::Broken)?;
        let Self { sender, driver } = self;
        drive(driver, sender.ready())
            .await?
            .map_err(|_| Failure::Broken)?;
        let response = drive(driver, sender.send_request(request))
            .await?
            .map_err(|_| Failure::Broken)?;
        let (parts, mut body) = response.into_parts();
        while let Some(frame) = drive(driver, body.frame()).await? {
            frame.map_err(|_| Failure::Broken)?;
        }
        Ok(Answer {
            status: parts.status,
            instance: parts
                .headers
                .get("x-instance-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            set_cookies: parts.headers.get_all(SET_COOKIE).iter().cloned().collect(),
        })
    }
}

/// Polls `work` and the connection together until `work` is done; the
/// connection ending first (the server closed it) is a failure.
async fn drive<F: Future>(
    driver: &mut Pin<Box<Driver<Io, Empty<Bytes>>>>,
    work: F,
) -> Result<F::Output, Failure> {
    tokio::pin!(work);
    tokio::select! {
        biased;
        out = &mut work => Ok(out),
        _ = driver.as_mut() => Err(Failure::Broken),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_sites_are_targets() {
        let target = Target::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(target.authority, "127.0.0.1:8080");
        assert_eq!(
            Target::parse("http://example.test").unwrap().authority,
            "example.test:80"
        );
        assert!(Target::parse("https://example.test").is_none());
        assert!(Target::parse("not a url").is_none());
    }
}
