//! One keep-alive HTTP/1.1 connection for the load test's plain GETs: the
//! request written whole in one call, the reply parsed in place (httparse)
//! and its body skipped, on buffers the connection keeps.
//!
//! A load generator has to cost less than the server it measures. reqwest
//! (a pooled client that parses every URL and talks to its connections
//! through tasks) held the load test to half of wrk's rate against a fast
//! page; hyper's connection-level client still spent three times wrk's CPU
//! per request, which on a 2-core machine is CPU the server does not get.
//! This does what wrk does: one write, as few reads as the reply needs.
//! Forms (login, upload) still go through reqwest, which keeps the cookies.

use bytes::{Buf, BytesMut};
use reqwest::header::HeaderValue;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Where plain GETs go: an `http://` site (https goes through reqwest).
#[derive(Debug, Clone)]
pub struct Target {
    authority: String,
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
        Some(Self {
            authority: format!("{host}:{port}"),
        })
    }
}

/// What a GET brought back (its body was read and dropped).
pub struct Answer {
    pub status: u16,
    pub instance: Option<String>,
    pub set_cookies: Vec<HeaderValue>,
}

/// Why a GET failed, in the load test's words for errors.
#[derive(Debug)]
pub enum Failure {
    Connect,
    Broken,
}

/// Headers a reply may have; more is a broken reply for this purpose.
const MAX_HEADERS: usize = 64;
/// A reply's head larger than this is refused.
const MAX_HEAD: usize = 64 * 1024;

pub struct Connection {
    stream: TcpStream,
    request: Vec<u8>,
    input: BytesMut,
    /// The server said it closes the connection after its last reply.
    closing: bool,
}

impl Connection {
    pub async fn open(target: &Target) -> Result<Self, Failure> {
        let stream = TcpStream::connect(&target.authority)
            .await
            .map_err(|_| Failure::Connect)?;
        let _ = stream.set_nodelay(true);
        Ok(Self {
            stream,
            request: Vec::with_capacity(512),
            input: BytesMut::with_capacity(64 * 1024),
            closing: false,
        })
    }

    /// False once the server has said it closes this connection.
    pub fn is_reusable(&self) -> bool {
        !self.closing
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
        self.request.clear();
        self.request.extend_from_slice(b"GET ");
        self.request.extend_from_slice(path.as_bytes());
        self.request.extend_from_slice(b" HTTP/1.1\r\nHost: ");
        self.request.extend_from_slice(target.authority.as_bytes());
        if let Some(cookie) = cookie {
            self.request.extend_from_slice(b"\r\nCookie: ");
            self.request.extend_from_slice(cookie.as_bytes());
        }
        self.request.extend_from_slice(b"\r\n\r\n");
        self.stream
            .write_all(&self.request)
            .await
            .map_err(|_| Failure::Broken)?;
        let head = self.read_head().await?;
        match head.body {
            Body::Length(length) => self.skip(length).await?,
            Body::Chunked => self.skip_chunks().await?,
        }
        self.closing = head.close;
        Ok(head.answer)
    }

    /// Reads until the reply's head is complete and parses it.
    async fn read_head(&mut self) -> Result<Head, Failure> {
        loop {
            if let Some(head) = parse_head(&mut self.input)? {
                return Ok(head);
            }
            if self.input.len() > MAX_HEAD {
                return Err(Failure::Broken);
            }
            self.fill().await?;
        }
    }

    /// Reads and drops `length` bytes.
    async fn skip(&mut self, mut length: usize) -> Result<(), Failure> {
        loop {
            let take = length.min(self.input.len());
            self.input.advance(take);
            length -= take;
            if length == 0 {
                return Ok(());
            }
            self.fill().await?;
        }
    }

    /// Reads and drops a chunked body, up to its last (empty) chunk and the
    /// empty trailer after it.
    async fn skip_chunks(&mut self) -> Result<(), Failure> {
        loop {
            match httparse::parse_chunk_size(&self.input) {
                Ok(httparse::Status::Complete((at, 0))) => {
                    self.input.advance(at);
                    return self.skip(2).await;
                }
                Ok(httparse::Status::Complete((at, size))) => {
                    self.input.advance(at);
                    let size = usize::try_from(size).map_err(|_| Failure::Broken)?;
                    // The chunk and the CRLF after it.
                    self.skip(size + 2).await?;
                }
                Ok(httparse::Status::Partial) => self.fill().await?,
                Err(_) => return Err(Failure::Broken),
            }
        }
    }

    /// Reads more of the reply; the server closing mid-reply is a failure.
    async fn fill(&mut self) -> Result<(), Failure> {
        if self.input.capacity() - self.input.len() < 16 * 1024 {
            self.input.reserve(64 * 1024);
        }
        match self.stream.read_buf(&mut self.input).await {
            Ok(0) | Err(_) => Err(Failure::Broken),
            Ok(_) => Ok(()),
        }
    }
}

enum Body {
    Length(usize),
    Chunked,
}

struct Head {
    answer: Answer,
    body: Body,
    close: bool,
}

/// The reply's head, taken off the front of `input`, once it is all there.
fn parse_head(input: &mut BytesMut) -> Result<Option<Head>, Failure> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let length = match response.parse(input) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(Failure::Broken),
    };
    let mut head = Head {
        answer: Answer {
            status: response.code.unwrap_or(0),
            instance: None,
            set_cookies: Vec::new(),
        },
        body: Body::Length(0),
        close: false,
    };
    for header in response.headers.iter() {
        let name = header.name;
        if name.eq_ignore_ascii_case("content-length") {
            let text = std::str::from_utf8(header.value).map_err(|_| Failure::Broken)?;
            head.body = Body::Length(text.trim().parse().map_err(|_| Failure::Broken)?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            if header.value.eq_ignore_ascii_case(b"chunked") {
                head.body = Body::Chunked;
            }
        } else if name.eq_ignore_ascii_case("connection") {
            head.close = header.value.eq_ignore_ascii_case(b"close");
        } else if name.eq_ignore_ascii_case("x-instance-id") {
            head.answer.instance = std::str::from_utf8(header.value).ok().map(str::to_owned);
        } else if name.eq_ignore_ascii_case("set-cookie") {
            if let Ok(value) = HeaderValue::from_bytes(header.value) {
                head.answer.set_cookies.push(value);
            }
        }
    }
    input.advance(length);
    Ok(Some(head))
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

    #[test]
    fn a_reply_head_is_parsed_in_place() {
        let mut input = BytesMut::from(
            &b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-instance-id: i-2\r\nset-cookie: a=b\r\n\r\nhelloHTTP/1.1"[..],
        );
        let head = parse_head(&mut input).unwrap().unwrap();
        assert_eq!(head.answer.status, 200);
        assert_eq!(head.answer.instance.as_deref(), Some("i-2"));
        assert_eq!(head.answer.set_cookies.len(), 1);
        assert!(matches!(head.body, Body::Length(5)));
        assert_eq!(&input[..], b"helloHTTP/1.1", "the body is left to skip");
        let mut partial = BytesMut::from(&b"HTTP/1.1 200 OK\r\ncontent-le"[..]);
        assert!(parse_head(&mut partial).unwrap().is_none());
    }
}
